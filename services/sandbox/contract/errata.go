package contract

import (
	"fmt"
	"strings"
)

// Service names of the two descriptions in testdata.
const (
	ServiceProGallery = "ProGallery V2"
	ServiceSiteMedia  = "Site Media - Media Manager Backend"
)

// Erratum adds to a service description what Wix's own material shows
// but the description's schema lacks. Each one names where Wix shows it.
// When the message does not exist, the erratum creates it.
type Erratum struct {
	Service string
	Message string
	Field   string
	// Type is a scalar type name or a message name, "[]" before it for
	// an array.
	Type string
	// Source says where Wix documents or shows the field.
	Source string
	// InExamples is set when the description's own message examples carry
	// the field, so that dropping the erratum makes an example fail.
	InExamples bool
}

// Errata are the known gaps between the two descriptions in testdata and
// what Wix shows elsewhere; nothing else may be added to a schema.
func Errata() []Erratum {
	const (
		proImage = "_com_wixpress_exposure_progallery_Image"
		proLink  = "_com_wixpress_exposure_progallery_Link"
		mmImage  = "_com_wix_media_site_media_upstream_wix_common_Image"
	)
	return []Erratum{
		{
			Service: ServiceProGallery, Message: proImage, Field: "type", Type: "_com_wixpress_exposure_progallery_Image_ImageType",
			Source:     `the Gallery Item Created/Updated examples of this description ("type": "WIX_MEDIA"); its enum Image_ImageType is declared but no member uses it`,
			InExamples: true,
		},
		{
			Service: ServiceProGallery, Message: proLink, Field: "target", Type: typeString,
			Source: "the current Pro Gallery API reference: link.target is _blank or _self",
		},
		{
			Service: ServiceProGallery, Message: proLink, Field: "type", Type: "_com_wixpress_exposure_progallery_Link_Type",
			Source: "the current Pro Gallery API reference; its enum Link_Type is declared in this description but no member uses it",
		},
		{
			Service: ServiceProGallery, Message: "_com_wixpress_exposure_progallery_BulkDeleteGalleryItemsResponse", Field: "itemIds", Type: "[]" + typeString,
			Source: "the current Pro Gallery API reference: POST .../items/delete answers {itemIds}; this description predates it",
		},
		{
			Service: ServiceSiteMedia, Message: mmImage, Field: "sizeInBytes", Type: typeString,
			Source:     "the File Ready and File Descriptor examples of this description (media.image.image.sizeInBytes)",
			InExamples: true,
		},
		{
			Service: ServiceSiteMedia, Message: mmImage, Field: "urlExpirationDate", Type: typeString,
			Source:     "the File Descriptor example of this description (media.image.image.urlExpirationDate)",
			InExamples: true,
		},
		{
			Service: ServiceSiteMedia, Message: "_com_wix_media_site_media_v1_FileDescriptorEntityDeletedEvent", Field: "movedToTrash", Type: typeBoolean,
			Source:     "the File Deleted example and event description of this description (deletedEvent.movedToTrash)",
			InExamples: true,
		},
		{
			Service: ServiceSiteMedia, Message: "_com_wix_media_site_media_v1_FolderEntityDeletedEvent", Field: "movedToTrash", Type: typeBoolean,
			Source:     "the Folder Deleted example and event description of this description (deletedEvent.movedToTrash)",
			InExamples: true,
		},
	}
}

// apply adds one erratum to the schema.
func (s *Schema) apply(e Erratum) error {
	name, array := strings.CutPrefix(e.Type, "[]")
	t := typeRef{name: name, array: array}
	switch name {
	case typeString, typeInteger, typeNumber, typeBoolean, typeStruct:
	default:
		if !s.Has(name) {
			return fmt.Errorf("%w: erratum %s.%s: type %s is not described", ErrSchema, e.Message, e.Field, name)
		}
	}
	m, ok := s.messages[e.Message]
	if !ok {
		m = &message{name: e.Message}
		s.messages[e.Message] = m
	}
	for _, mb := range m.members {
		if mb.name == e.Field {
			return fmt.Errorf("%w: erratum %s.%s is stale: the description declares it", ErrSchema, e.Message, e.Field)
		}
	}
	m.members = append(m.members, member{name: e.Field, typ: t})
	return nil
}
