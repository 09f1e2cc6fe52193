module gallerysync.dev/services/sandbox

go 1.26.0

replace (
	gallerysync.dev/libs => ../../libs
	gallerysync.dev/proto => ../../proto
)
