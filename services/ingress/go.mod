module gallerysync.dev/services/ingress

go 1.26.0

replace (
	gallerysync.dev/libs => ../../libs
	gallerysync.dev/proto => ../../proto
)
