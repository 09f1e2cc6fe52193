package mastodonsim

import (
	"slices"
	"testing"
)

func TestRenderContent(t *testing.T) {
	t.Parallel()
	const base = "https://social.example"
	tests := []struct {
		name     string
		text     string
		want     string
		wantTags []string
	}{
		{name: "plain", text: "Hello", want: "<p>Hello</p>"},
		{name: "blank", text: "  ", want: ""},
		{
			name: "markup is escaped",
			text: `Title <script>alert("x")</script> & 'quotes'`,
			want: "<p>Title &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;</p>",
		},
		{name: "line breaks and paragraphs", text: "one\ntwo\n\n\nthree\r\nfour", want: "<p>one<br />two</p><p>three<br />four</p>"},
		{
			name:     "hashtags",
			text:     "Sunset #Beach and #beach, #2024 is no tag, a#b neither",
			want:     `<p>Sunset <a href="https://social.example/tags/Beach" class="mention hashtag" rel="tag">#<span>Beach</span></a> and <a href="https://social.example/tags/beach" class="mention hashtag" rel="tag">#<span>beach</span></a>, #2024 is no tag, a#b neither</p>`,
			wantTags: []string{"beach"},
		},
		{
			name: "short url",
			text: "see https://example.com/a.",
			want: `<p>see <a href="https://example.com/a" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span><span class="">example.com/a</span><span class="invisible"></span></a>.</p>`,
		},
		{
			name: "long url is shortened",
			text: "https://www.example.com/0123456789012345678901234567890123456789",
			want: `<p><a href="https://www.example.com/0123456789012345678901234567890123456789" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://www.</span><span class="ellipsis">example.com/012345678901234567</span><span class="invisible">8901234567890123456789</span></a></p>`,
		},
		{
			name: "fragment in a url is no hashtag",
			text: "https://example.com/page#section",
			want: `<p><a href="https://example.com/page#section" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span><span class="">example.com/page#section</span><span class="invisible"></span></a></p>`,
		},
		{
			name:     "unicode tag",
			text:     "#Café",
			want:     `<p><a href="https://social.example/tags/Caf%C3%A9" class="mention hashtag" rel="tag">#<span>Café</span></a></p>`,
			wantTags: []string{"café"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, tags := renderContent(tc.text, base)
			if got != tc.want {
				t.Fatalf("content\n got %s\nwant %s", got, tc.want)
			}
			var names []string
			for _, tag := range tags {
				names = append(names, tag.Name)
			}
			if !slices.Equal(names, tc.wantTags) {
				t.Fatalf("tags %v, want %v", names, tc.wantTags)
			}
		})
	}
}

func TestCountableLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, spoiler string
		want          int
	}{
		{text: "abc", want: 3},
		{text: "héllo", spoiler: "cw", want: 7},
		{text: "go https://example.com/very/long/path/indeed", want: 3 + urlWeight},
	}
	for _, tc := range tests {
		if got := countableLength(tc.text, tc.spoiler); got != tc.want {
			t.Errorf("countableLength(%q, %q) = %d, want %d", tc.text, tc.spoiler, got, tc.want)
		}
	}
}

func TestHTMLEscapingThroughTheAPI(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	st := in.postText(t, aliceToken, "Gallery <script>alert(1)</script> #Summer")
	want := `<p>Gallery &lt;script&gt;alert(1)&lt;/script&gt; <a href="` + in.base + `/tags/Summer" class="mention hashtag" rel="tag">#<span>Summer</span></a></p>`
	if st.Content != want {
		t.Fatalf("content\n got %s\nwant %s", st.Content, want)
	}
	src := decode[StatusSource](t, in.get(t, "/api/v1/statuses/"+st.ID+"/source", aliceToken))
	if src.Text != "Gallery <script>alert(1)</script> #Summer" {
		t.Fatalf("source %q, want the text as posted", src.Text)
	}
}
