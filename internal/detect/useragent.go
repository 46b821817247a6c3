package detect

import (
	"errors"
	"fmt"
	"math/bits"
)

// UserAgentConfig configures the User-Agent detector: known attack tools and
// vulnerability scanners (class scanner_ua, critical), and empty or malformed
// agents (class bad_ua, notice).
type UserAgentConfig struct {
	// Mode is enforce, alert or off.
	Mode Mode `koanf:"mode"`
	// Allow lists case-insensitive substrings of User-Agents that are never
	// flagged by this detector, e.g. the site's own uptime monitor or an
	// authorised scanner.
	Allow []string `koanf:"allow"`
	// Extra lists more case-insensitive substrings that identify attack
	// tools (rule id "ua-custom").
	Extra []string `koanf:"extra"`
	// MaxLength is the length in bytes above which a User-Agent counts as
	// malformed (rule "ua-too-long").
	MaxLength int `koanf:"max_length"`
}

// DefaultUserAgentConfig returns the default: enforcing, no allowances,
// User-Agents over 1 KiB are malformed.
func DefaultUserAgentConfig() UserAgentConfig {
	return UserAgentConfig{Mode: ModeEnforce, MaxLength: 1024}
}

// Validate reports every problem in c (messages start with "useragent.").
func (c UserAgentConfig) Validate() error {
	var errs []error
	if err := validMode("useragent.mode", c.Mode); err != nil {
		errs = append(errs, err)
	}
	if c.MaxLength <= 0 {
		errs = append(errs, fmt.Errorf("useragent.max_length: must be > 0 (got %d)", c.MaxLength))
	}
	for i, s := range c.Allow {
		if s == "" {
			errs = append(errs, fmt.Errorf("useragent.allow[%d]: must not be empty", i))
		}
	}
	for i, s := range c.Extra {
		if s == "" {
			errs = append(errs, fmt.Errorf("useragent.extra[%d]: must not be empty", i))
		}
	}
	return errors.Join(errs...)
}

// uaBound says which ends of a tool name must sit on a word boundary, for
// names short or common enough to occur inside other words.
type uaBound uint8

const (
	boundStart uaBound = 1 << iota // preceded by the start or a byte that is not [a-z0-9_-]
	boundEnd                       // followed by the end or a byte that is not a letter
)

// uaTool is one attack-tool signature: a case-insensitive substring.
type uaTool struct {
	rule  string
	name  string
	bound uaBound
}

// uaTools lists attack tools and vulnerability scanners by a distinctive
// substring of their default User-Agent, most specific first. Names that are
// also ordinary words or library names carry boundary requirements
// ("python-httpx" is a library, "httpx" alone the ProjectDiscovery tool).
func uaTools() []uaTool {
	return []uaTool{
		{"ua-sqlmap", "sqlmap", 0},
		{"ua-nikto", "nikto", 0},
		{"ua-nuclei", "nuclei", boundStart},
		{"ua-masscan", "masscan", 0},
		{"ua-zgrab", "zgrab", 0},
		{"ua-wpscan", "wpscan", 0},
		{"ua-joomscan", "joomscan", 0},
		{"ua-gobuster", "gobuster", 0},
		{"ua-dirbuster", "dirbuster", 0},
		{"ua-dirb", "dirb", boundStart | boundEnd},
		{"ua-dirsearch", "dirsearch", 0},
		{"ua-ffuf", "fuzz faster u fool", 0},
		{"ua-ffuf", "ffuf", boundStart | boundEnd},
		{"ua-feroxbuster", "feroxbuster", 0},
		{"ua-wfuzz", "wfuzz", 0},
		{"ua-hydra", "hydra", boundStart | boundEnd},
		{"ua-nmap", "nmap scripting engine", 0},
		{"ua-nmap", "nmap", boundStart | boundEnd},
		{"ua-acunetix", "acunetix", 0},
		{"ua-nessus", "nessus", 0},
		{"ua-openvas", "openvas", 0},
		{"ua-w3af", "w3af", 0},
		{"ua-arachni", "arachni", 0},
		{"ua-zmeu", "zmeu", 0},
		{"ua-leakix", "l9scan", 0},
		{"ua-leakix", "l9tcpid", 0},
		{"ua-leakix", "l9explore", 0},
		{"ua-leakix", "leakix", 0},
		{"ua-jorgee", "jorgee", 0},
		{"ua-morfeus", "morfeus", 0},
		{"ua-whatweb", "whatweb", 0},
		{"ua-netsparker", "netsparker", 0},
		{"ua-appscan", "appscan", 0},
		{"ua-webinspect", "webinspect", 0},
		{"ua-burp", "burpcollaborator", 0},
		{"ua-burp", "burp collaborator", 0},
		{"ua-zap", "zaproxy", 0},
		{"ua-havij", "havij", 0},
		{"ua-commix", "commix", boundStart},
		{"ua-xsstrike", "xsstrike", 0},
		{"ua-httpx", "httpx", boundStart | boundEnd},
		{"ua-metasploit", "metasploit", 0},
		{"ua-paros", "paros", boundStart | boundEnd},
		{"ua-libwhisker", "libwhisker", 0},
		{"ua-skipfish", "skipfish", 0},
		{"ua-skipfish", "sf/2.", boundStart},
		{"ua-sqlninja", "sqlninja", 0},
		{"ua-bsqlbf", "bsqlbf", 0},
		{"ua-pangolin", "pangolin", boundStart | boundEnd},
		{"ua-dotdotpwn", "dotdotpwn", 0},
		{"ua-fimap", "fimap", 0},
		{"ua-jaeles", "jaeles", 0},
		{"ua-muieblackcat", "muieblackcat", 0},
		{"ua-qualys", "qualys", 0},
		{"ua-detectify", "detectify", 0},
	}
}

// Rule ids of the bad-agent checks and of operator-supplied tool names.
const (
	ruleUAEmpty   = "ua-empty"
	ruleUAControl = "ua-control"
	ruleUATooLong = "ua-too-long"
	ruleUAGarbage = "ua-garbage"
	ruleUACustom  = "ua-custom"
)

// uaLitKind says what a literal of the userAgent matcher stands for.
type uaLitKind uint8

const (
	uaLitTool uaLitKind = iota
	uaLitExtra
	uaLitAllow
)

// userAgent is the compiled User-Agent detector.
type userAgent struct {
	mode   Mode
	maxLen int
	m      *litIndex
	lits   []string    // lower-cased literal per id
	kind   []uaLitKind // per literal id
	tools  []uaTool    // the tool table
	tool   []int       // per literal id: index into tools (uaLitTool only)
	hits   []uint64    // scratch
	feat   [256]uint16
	// base is the id of u's first literal in the signature detector's
	// User-Agent index, when that scan is shared (see requestViews.uaScan).
	base int
}

// uaFeatControl marks control bytes, uaFeatLetter letters. They are above
// the signature detector's features (featDecode, featShell), with which
// they share the User-Agent field's feature table.
const (
	uaFeatControl uint16 = 1 << (8 + iota)
	uaFeatLetter
)

// setUAFeatures marks control bytes and letters in feat.
func setUAFeatures(feat *[256]uint16) {
	for c := range 0x20 {
		if c != '\t' {
			feat[c] |= uaFeatControl
		}
	}
	feat[0x7f] |= uaFeatControl
	for c := 'a'; c <= 'z'; c++ {
		feat[c] |= uaFeatLetter
		feat[c-'a'+'A'] |= uaFeatLetter
	}
}

func newUserAgent(cfg UserAgentConfig) (*userAgent, error) {
	u := &userAgent{mode: cfg.Mode, maxLen: cfg.MaxLength, tools: uaTools()}
	for i, t := range u.tools {
		u.lits = append(u.lits, t.name)
		u.kind = append(u.kind, uaLitTool)
		u.tool = append(u.tool, i)
	}
	for _, s := range cfg.Extra {
		u.lits = append(u.lits, s)
		u.kind = append(u.kind, uaLitExtra)
		u.tool = append(u.tool, -1)
	}
	for _, s := range cfg.Allow {
		u.lits = append(u.lits, s)
		u.kind = append(u.kind, uaLitAllow)
		u.tool = append(u.tool, -1)
	}
	m, err := newLitIndex(u.lits)
	if err != nil {
		return nil, fmt.Errorf("useragent: %w", err)
	}
	u.m = m
	u.hits = make([]uint64, m.words())
	setUAFeatures(&u.feat)
	return u, nil
}

// inspect appends the User-Agent match for the request in v, if any, to
// dst. At most one match is reported: an allowed agent gives none, an
// attack tool wins over a malformed agent. When the signature detector
// scanned the agent (v.uaShared), its hits are used; u's literals start at
// u.base there.
func (u *userAgent) inspect(v *requestViews, dst []Match) []Match {
	ua := v.raw(fiUserAgent)
	if len(ua) == 0 || (len(ua) == 1 && ua[0] == '-') {
		return u.appendMatch(dst, ruleUAEmpty, ClassBadUA, SeverityNotice)
	}
	hits, base, feat := v.uaHits, u.base, v.uaFeat
	if !v.uaShared {
		hits, base = u.hits, 0
		clear(hits)
		feat, _ = u.m.scan(ua, &u.feat, hits)
	}
	tool, extra := -1, false
	lo, hi := base, base+len(u.lits)
	for w := lo >> 6; w<<6 < hi; w++ {
		word := hits[w]
		if w<<6 < lo {
			word &= ^uint64(0) << (lo & 63)
		}
		if (w+1)<<6 > hi {
			word &= 1<<(hi&63) - 1
		}
		for word != 0 {
			id := w<<6 + bits.TrailingZeros64(word) - base
			word &= word - 1
			switch u.kind[id] {
			case uaLitAllow:
				return dst
			case uaLitExtra:
				extra = true
			case uaLitTool:
				t := u.tool[id]
				if (tool < 0 || t < tool) && u.bounded(ua, u.tools[t]) {
					tool = t
				}
			}
		}
	}
	switch {
	case tool >= 0:
		return u.appendMatch(dst, u.tools[tool].rule, ClassScannerUA, SeverityCritical)
	case extra:
		return u.appendMatch(dst, ruleUACustom, ClassScannerUA, SeverityCritical)
	case feat&uaFeatControl != 0:
		return u.appendMatch(dst, ruleUAControl, ClassBadUA, SeverityNotice)
	case len(ua) > u.maxLen:
		return u.appendMatch(dst, ruleUATooLong, ClassBadUA, SeverityNotice)
	case feat&uaFeatLetter == 0:
		// No letter at all: no browser, library or bot sends that.
		return u.appendMatch(dst, ruleUAGarbage, ClassBadUA, SeverityNotice)
	}
	return dst
}

// clone returns a detector sharing u's tables with scratch of its own.
func (u *userAgent) clone() *userAgent {
	n := *u
	n.hits = make([]uint64, len(u.hits))
	return &n
}

func (u *userAgent) appendMatch(dst []Match, rule string, class Class, sev Severity) []Match {
	return append(dst, Match{Detector: DetectorUserAgent, Rule: rule, Class: class, Severity: sev, Field: FieldUserAgent})
}

// bounded reports whether some occurrence of t.name in ua satisfies t's
// boundary requirements.
func (u *userAgent) bounded(ua []byte, t uaTool) bool {
	if t.bound == 0 {
		return true
	}
	for from := 0; ; {
		i := indexFold(ua[from:], t.name)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(t.name)
		okStart := t.bound&boundStart == 0 || i == 0 || !isNameByte(ua[i-1])
		okEnd := t.bound&boundEnd == 0 || end == len(ua) || !isLetter(ua[end])
		if okStart && okEnd {
			return true
		}
		from = i + 1
	}
}

// isNameByte reports whether c can be part of a product or library name.
func isNameByte(c byte) bool {
	return isLetter(c) || (c >= '0' && c <= '9') || c == '-' || c == '_'
}

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool {
	c = lowerASCII(c)
	return c >= 'a' && c <= 'z'
}

// indexFold returns the index of the first occurrence of the lower-case ASCII
// string s in b, ignoring ASCII case, or -1.
func indexFold(b []byte, s string) int {
	if len(s) == 0 {
		return 0
	}
	for i := 0; i+len(s) <= len(b); i++ {
		if lowerASCII(b[i]) == s[0] && asciiEqualFold(b[i:i+len(s)], s) {
			return i
		}
	}
	return -1
}
