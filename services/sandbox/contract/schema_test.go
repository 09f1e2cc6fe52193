package contract_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gallerysync.dev/services/sandbox/contract"
)

// Message names used by the tests.
const (
	msgItem            = "_com_wixpress_exposure_progallery_Item"
	msgGallery         = "_com_wixpress_exposure_progallery_Gallery"
	msgListGalleries   = "_com_wixpress_exposure_progallery_ListGalleriesResponse"
	msgGetGallery      = "_com_wixpress_exposure_progallery_GetGalleryResponse"
	msgListItems       = "_com_wixpress_exposure_progallery_ListGalleryItemsResponse"
	msgGetItem         = "_com_wixpress_exposure_progallery_GetGalleryItemResponse"
	msgCreateItem      = "_com_wixpress_exposure_progallery_CreateGalleryItemResponse"
	msgUpdateItem      = "_com_wixpress_exposure_progallery_UpdateGalleryItemResponse"
	msgDeleteItem      = "_com_wixpress_exposure_progallery_DeleteGalleryItemResponse"
	msgBulkDelete      = "_com_wixpress_exposure_progallery_BulkDeleteGalleryItemsResponse"
	msgCreateGallery   = "_com_wixpress_exposure_progallery_CreateGalleryResponse"
	msgUpdateGallery   = "_com_wixpress_exposure_progallery_UpdateGalleryResponse"
	msgDeleteGallery   = "_com_wixpress_exposure_progallery_DeleteGalleryResponse"
	msgImportFile      = "_com_wix_media_site_media_v1_ImportFileResponse"
	msgGetFile         = "_com_wix_media_site_media_v1_GetFileDescriptorResponse"
	msgGetFiles        = "_com_wix_media_site_media_v1_GetFileDescriptorsResponse"
	msgFileDescriptor  = "_com_wix_media_site_media_v1_FileDescriptor"
	msgUpstreamImage   = "_upstream_wix_common_Image"
	msgListGalleriesOp = "ListGalleries"
)

var files = map[string]string{
	contract.ServiceProGallery: "progallery-v2.service.json",
	contract.ServiceSiteMedia:  "site-media.service.json",
}

// schemas loads both descriptions with the errata.
func schemas(t *testing.T) (pro, media *contract.Schema) {
	t.Helper()
	load := func(service string) *contract.Schema {
		s, err := contract.Load(filepath.Join("testdata", files[service]), contract.Errata()...)
		if err != nil {
			t.Fatal(err)
		}
		if s.Service() != service {
			t.Fatalf("%s describes %q, want %q", files[service], s.Service(), service)
		}
		return s
	}
	return load(contract.ServiceProGallery), load(contract.ServiceSiteMedia)
}

func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	pro, media := schemas(t)
	for _, s := range []*contract.Schema{pro, media} {
		examples := s.Examples()
		if len(examples) < 6 {
			t.Fatalf("%s: only %d examples", s.Service(), len(examples))
		}
		for _, ex := range examples {
			t.Run(s.Service()+"/"+ex.Message, func(t *testing.T) {
				t.Parallel()
				if err := s.Validate(ex.Message, []byte(ex.JSON)); err != nil {
					t.Fatalf("Wix's own example fails its schema: %v", err)
				}
			})
		}
	}
}

func TestErrataAreNeeded(t *testing.T) {
	t.Parallel()
	all := contract.Errata()
	for i, e := range all {
		t.Run(e.Message+"."+e.Field, func(t *testing.T) {
			t.Parallel()
			if e.Source == "" {
				t.Fatal("an erratum must say where Wix shows the field")
			}
			data, err := os.ReadFile(filepath.Join("testdata", files[e.Service]))
			if err != nil {
				t.Fatal(err)
			}
			// The description must still lack the field.
			stale := e
			stale.Field = "__probe__"
			if _, err := contract.Parse(data, e, stale); err != nil {
				t.Fatalf("erratum does not apply: %v", err)
			}
			if !e.InExamples {
				return
			}
			without := append(append([]contract.Erratum{}, all[:i]...), all[i+1:]...)
			s, err := contract.Parse(data, without...)
			if err != nil {
				t.Fatal(err)
			}
			failed := false
			for _, ex := range s.Examples() {
				if err := s.Validate(ex.Message, []byte(ex.JSON)); err != nil && strings.Contains(err.Error(), e.Field) && strings.Contains(err.Error(), e.Message) {
					failed = true
				}
			}
			if !failed {
				t.Fatal("marked InExamples, but every example validates without it")
			}
		})
	}

	t.Run("a declared field cannot be an erratum", func(t *testing.T) {
		t.Parallel()
		data, err := os.ReadFile(filepath.Join("testdata", files[contract.ServiceProGallery]))
		if err != nil {
			t.Fatal(err)
		}
		dup := contract.Erratum{Service: contract.ServiceProGallery, Message: msgItem, Field: "title", Type: "string", Source: "x"}
		if _, err := contract.Parse(data, dup); !errors.Is(err, contract.ErrSchema) {
			t.Fatalf("Parse with an erratum for a declared field: %v, want ErrSchema", err)
		}
	})
}

func TestCheckerRejects(t *testing.T) {
	t.Parallel()
	pro, media := schemas(t)
	image := `{"id":"a~mv2.jpg","width":10,"height":20}`
	tests := []struct {
		name    string
		s       *contract.Schema
		msg     string
		doc     string
		wantErr string // "" means valid
	}{
		{"minimal item", pro, msgItem, `{"id":"x","image":{"imageInfo":` + image + `}}`, ""},
		{"nulls are absent", pro, msgItem, `{"id":"x","title":null,"link":null}`, ""},
		{"int64 as a decimal string", media, "_com_wix_media_site_media_v1_ColorRGB", `{"r":"12","g":1,"b":2}`, ""},
		{"message body as a JSON string (AsJson)", pro, "_com_wixpress_exposure_progallery_GalleryItemCreatedActionEvent", `{"bodyAsJson":"{\"item\":{\"id\":\"x\"}}"}`, ""},
		{"unknown field", pro, msgItem, `{"id":"x","caption":"no"}`, "caption: unknown field"},
		{"unknown nested field", pro, msgItem, `{"image":{"imageInfo":{"id":"a","width":1,"height":1,"dpi":72}}}`, "image.imageInfo.dpi: unknown field"},
		{"string for a number", pro, msgItem, `{"sortOrder":"12"}`, "sortOrder: want a number"},
		{"fraction for an integer", pro, msgUpstreamImage, `{"id":"a","width":1.5,"height":2}`, "width: want an integer"},
		{"number for a string", pro, msgItem, `{"title":7}`, "title: want a string"},
		{"number for a boolean", media, msgFileDescriptor, `{"private":0}`, "private: want true or false"},
		{"value outside the enum", pro, msgItem, `{"type":"PHOTO"}`, "type: want one of"},
		{"missing required field", pro, msgItem, `{"image":{"imageInfo":{"id":"a","width":1}}}`, "image.imageInfo.height: required field missing"},
		{"two members of one oneOf", pro, msgItem, `{"image":{"imageInfo":` + image + `},"text":{"html":"<p/>"}}`, "only one of the oneOf"},
		{"object for an array", pro, "_com_wixpress_exposure_progallery_Tags", `{"values":{"a":1}}`, "values: want an array"},
		{"wrong array element", pro, "_com_wixpress_exposure_progallery_Tags", `{"values":["a",2]}`, "values[1]: want a string"},
		{"array for a struct", pro, "_com_wixpress_exposure_progallery_Text", `{"html":"x","css":[]}`, "css: want an object"},
		{"AsJson string that is not JSON", pro, "_com_wixpress_exposure_progallery_GalleryItemCreatedActionEvent", `{"bodyAsJson":"{nope"}`, "bodyAsJson: a string that is not JSON"},
		{"AsJson body checked like the body", pro, "_com_wixpress_exposure_progallery_GalleryItemCreatedActionEvent", `{"bodyAsJson":{"item":{"likes":3}}}`, "bodyAsJson.item.likes: unknown field"},
		{"AsJson only for message members", pro, msgItem, `{"titleAsJson":"\"x\""}`, "titleAsJson: unknown field"},
		{"not an object", pro, msgItem, `[1]`, "want an object"},
		{"not JSON", pro, msgItem, `{"id":`, "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.s.Validate(tt.msg, []byte(tt.doc))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("valid document refused: %v", err)
				}
				return
			}
			if !errors.Is(err, contract.ErrViolation) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want a violation mentioning %q", err, tt.wantErr)
			}
		})
	}
	if err := pro.Validate("NoSuchMessage", []byte(`{}`)); !errors.Is(err, contract.ErrUnknownMessage) {
		t.Fatalf("unknown message: %v", err)
	}
}

// TestOperationSampleDrift shows the checker catching the drift the
// reference notes describe: the List Galleries sample response in Wix's
// docs uses totalGalleriesCount/gallery where the schema has
// totalGalleries/galleries. The contract follows the schema.
func TestOperationSampleDrift(t *testing.T) {
	t.Parallel()
	pro, _ := schemas(t)
	data, err := os.ReadFile(filepath.Join("testdata", files[contract.ServiceProGallery]))
	if err != nil {
		t.Fatal(err)
	}
	var desc struct {
		Operations []struct {
			MethodName string `json:"methodName"`
			Docs       struct {
				Examples []struct {
					Response []string `json:"response"`
				} `json:"examples"`
			} `json:"docs"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(data, &desc); err != nil {
		t.Fatal(err)
	}
	for _, op := range desc.Operations {
		if op.MethodName != msgListGalleriesOp {
			continue
		}
		err := pro.Validate(msgListGalleries, []byte(op.Docs.Examples[0].Response[0]))
		if err == nil || !strings.Contains(err.Error(), "totalGalleriesCount: unknown field") {
			t.Fatalf("the sample with totalGalleriesCount passed or failed otherwise: %v", err)
		}
		return
	}
	t.Fatal("no List Galleries operation in the description")
}
