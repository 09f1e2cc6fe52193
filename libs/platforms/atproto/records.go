package atproto

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"gallerysync.dev/libs/platforms"
)

// blobRef is a blob as records hold it:
// {"$type":"blob","ref":{"$link":cid},"mimeType":...,"size":...}.
type blobRef struct {
	CID      string
	MimeType string
	Size     int64
}

type blobJSON struct {
	Type     string `json:"$type"`
	Ref      link   `json:"ref"`
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
}

type link struct {
	Link string `json:"$link"`
}

// MarshalJSON implements json.Marshaler.
func (b blobRef) MarshalJSON() ([]byte, error) {
	return json.Marshal(blobJSON{Type: "blob", Ref: link{Link: b.CID}, MimeType: b.MimeType, Size: b.Size})
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *blobRef) UnmarshalJSON(data []byte) error {
	var j blobJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*b = blobRef{CID: j.Ref.Link, MimeType: j.MimeType, Size: j.Size}
	return nil
}

// aspect is a width:height ratio (social.grain.defs#aspectRatio).
type aspect struct {
	Width  int64 `json:"width"`
	Height int64 `json:"height"`
}

// photoRecord is a social.grain.photo record; Title, Description and Link
// are ours (see the package doc).
type photoRecord struct {
	Type        string  `json:"$type"`
	Photo       blobRef `json:"photo"`
	Alt         string  `json:"alt,omitempty"`
	AspectRatio aspect  `json:"aspectRatio"`
	CreatedAt   string  `json:"createdAt"`
	Title       string  `json:"title,omitempty"`
	Description string  `json:"description,omitempty"`
	Link        string  `json:"link,omitempty"`
}

// itemRecord is a social.grain.gallery.item record.
type itemRecord struct {
	Type      string `json:"$type"`
	Gallery   string `json:"gallery"`
	Item      string `json:"item"`
	Position  int64  `json:"position"`
	CreatedAt string `json:"createdAt"`
}

// galleryRecord is a social.grain.gallery record.
type galleryRecord struct {
	Type        string `json:"$type"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt,omitempty"`
}

// state is what the adapter knows of one item's two records.
type state struct {
	photoRkey, photoCID string
	itemRkey, itemCID   string
	// album is the gallery the item record names (its record key).
	album     string
	blob      blobRef
	aspect    aspect
	position  int64
	createdAt string
	mediaURL  string
	// photoHash is the hash of the photo record's content as last written
	// or read ("" when unknown), to skip rewriting an unchanged photo.
	photoHash string
	// shown is the photo's text as read (set by current only).
	shown text
}

// records are the photo and gallery item records for the content.
func (st state) records(galleryURI, photoURI string, c platforms.Content) (photoRecord, itemRecord) {
	t := textOf(c)
	return photoRecord{
			Type: CollectionPhoto, Photo: st.blob, Alt: t.alt, AspectRatio: st.aspect, CreatedAt: st.createdAt,
			Title: t.title, Description: t.description, Link: t.link,
		}, itemRecord{
			Type: CollectionGalleryItem, Gallery: galleryURI, Item: photoURI,
			Position: position(c.SortOrder), CreatedAt: st.createdAt,
		}
}

// photoHash is the hash of what a photo record holds.
func (p photoRecord) hash() string {
	return digest("photo", p.Alt, p.Title, p.Description, p.Link, p.Photo.CID, formatInt(p.AspectRatio.Width), formatInt(p.AspectRatio.Height))
}

// text is what a photo record says of the item.
func (p photoRecord) text() text {
	return text{alt: p.Alt, title: p.Title, description: p.Description, link: p.Link}
}

// attrs are the Remote.Attrs describing st.
func (st state) attrs() map[string]string {
	return map[string]string{
		AttrPhotoCID:  st.photoCID,
		AttrItemRkey:  st.itemRkey,
		AttrItemCID:   st.itemCID,
		AttrAlbum:     st.album,
		AttrBlob:      st.blob.CID + " " + st.blob.MimeType + " " + formatInt(st.blob.Size),
		AttrAspect:    formatInt(st.aspect.Width) + ":" + formatInt(st.aspect.Height),
		AttrPosition:  formatInt(st.position),
		AttrCreatedAt: st.createdAt,
		AttrMediaURL:  st.mediaURL,
		AttrPhotoHash: st.photoHash,
	}
}

// stateFromAttrs reads the state a Remote's attrs describe; false when
// they are incomplete (then the records must be read).
func stateFromAttrs(r platforms.Remote) (state, bool) {
	at := r.Attrs
	st := state{
		photoRkey: r.ID, photoCID: at[AttrPhotoCID], itemRkey: at[AttrItemRkey], itemCID: at[AttrItemCID],
		album: at[AttrAlbum], createdAt: at[AttrCreatedAt], mediaURL: at[AttrMediaURL], photoHash: at[AttrPhotoHash],
	}
	blob := strings.Fields(at[AttrBlob])
	if len(blob) != 3 || st.photoCID == "" || st.itemCID == "" || st.createdAt == "" || checkRkey(st.itemRkey) != nil {
		return state{}, false
	}
	size, err := strconv.ParseInt(blob[2], 10, 64)
	if err != nil {
		return state{}, false
	}
	st.blob = blobRef{CID: blob[0], MimeType: blob[1], Size: size}
	w, h, ok := strings.Cut(at[AttrAspect], ":")
	if !ok {
		return state{}, false
	}
	if st.aspect.Width, err = strconv.ParseInt(w, 10, 64); err != nil {
		return state{}, false
	}
	if st.aspect.Height, err = strconv.ParseInt(h, 10, 64); err != nil {
		return state{}, false
	}
	if st.position, err = strconv.ParseInt(at[AttrPosition], 10, 64); err != nil {
		return state{}, false
	}
	return st, true
}

// atURI is a parsed at://authority/collection/rkey.
type atURI struct {
	authority, collection, rkey string
}

func parseATURI(s string) (atURI, error) {
	rest, ok := strings.CutPrefix(s, "at://")
	if !ok {
		return atURI{}, fmt.Errorf("not an at-uri: %q", s)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return atURI{}, fmt.Errorf("not a record at-uri: %q", s)
	}
	return atURI{authority: parts[0], collection: parts[1], rkey: parts[2]}, nil
}

// names reports whether u is the record collection/rkey of the account
// with this DID or handle.
func (u atURI) names(did, handle, collection, rkey string) bool {
	return (u.authority == did || (handle != "" && strings.EqualFold(u.authority, handle))) &&
		u.collection == collection && u.rkey == rkey
}
