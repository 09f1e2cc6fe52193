module gallerysync.dev/services/allinone

go 1.26.0

replace (
	gallerysync.dev/libs => ../../libs
	gallerysync.dev/proto => ../../proto
)
