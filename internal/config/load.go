package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// EnvPrefix prefixes the environment variables vigil reads. A double
// underscore separates levels: VIGIL_SOURCE__PATH sets source.path and
// VIGIL_STATE_DIR sets state_dir.
const EnvPrefix = "VIGIL_"

// Sources says where Load reads from. Zero fields are skipped.
type Sources struct {
	// File is the YAML file ("" for none).
	File string
	// Environ is the environment as os.Environ returns it.
	Environ []string
	// Flags are parsed command-line flags; only flags the user set and that
	// FlagKeys maps to a key are applied.
	Flags *pflag.FlagSet
	// FlagKeys maps flag names to configuration keys.
	FlagKeys map[string]string
	// Set holds "key=value" overrides (the --set flag), applied last. Lists
	// are comma-separated.
	Set []string
}

// Load builds the configuration from defaults, the file, the environment and
// the flags, rejecting unknown keys, and validates it.
func Load(src Sources) (*Config, error) {
	def := Default()
	defaults := map[string]any{}
	known := map[string]bool{}
	toMap(reflect.ValueOf(def), "", defaults, known)

	k := koanf.New(".")
	if err := k.Load(mapProvider(defaults), nil); err != nil {
		return nil, fmt.Errorf("load defaults: %w", err)
	}
	var errs []error
	if src.File != "" {
		kf := koanf.New(".")
		if err := kf.Load(file.Provider(src.File), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("read config file %q: %w", src.File, err)
		}
		for _, key := range unknown(kf.Keys(), known) {
			errs = append(errs, fmt.Errorf("%s: unknown key%s (in %s)", key, suggest(key, known), src.File))
		}
		if err := k.Merge(kf); err != nil {
			return nil, fmt.Errorf("merge config file: %w", err)
		}
	}
	if len(src.Environ) > 0 {
		ke := koanf.New(".")
		origin := map[string]string{}
		p := env.Provider(".", env.Opt{Prefix: EnvPrefix, EnvironFunc: func() []string { return src.Environ },
			TransformFunc: func(k, v string) (string, any) {
				key := envKey(k)
				origin[key] = k
				return key, v
			}})
		if err := ke.Load(p, nil); err != nil {
			return nil, fmt.Errorf("read environment: %w", err)
		}
		for _, key := range unknown(ke.Keys(), known) {
			errs = append(errs, fmt.Errorf("%s: unknown key%s (from environment variable %s)", key, suggest(key, known), origin[key]))
		}
		if err := k.Merge(ke); err != nil {
			return nil, fmt.Errorf("merge environment: %w", err)
		}
	}
	if src.Flags != nil && len(src.FlagKeys) > 0 {
		p := posflag.ProviderWithFlag(src.Flags, ".", k, func(f *pflag.Flag) (string, any) {
			key, ok := src.FlagKeys[f.Name]
			if !ok || !f.Changed {
				return "", nil
			}
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				return key, sv.GetSlice()
			}
			return key, f.Value.String()
		})
		if err := k.Load(p, nil); err != nil {
			return nil, fmt.Errorf("apply flags: %w", err)
		}
	}
	if len(src.Set) > 0 {
		ks := koanf.New(".")
		for _, kv := range src.Set {
			key, val, ok := strings.Cut(kv, "=")
			key = strings.TrimSpace(key)
			if !ok || key == "" {
				errs = append(errs, fmt.Errorf("--set %q: want KEY=VALUE", kv))
				continue
			}
			if err := ks.Set(key, val); err != nil {
				errs = append(errs, fmt.Errorf("--set %q: %w", kv, err))
			}
		}
		for _, key := range unknown(ks.Keys(), known) {
			errs = append(errs, fmt.Errorf("%s: unknown key%s (from --set)", key, suggest(key, known)))
		}
		if err := k.Merge(ks); err != nil {
			return nil, fmt.Errorf("apply --set: %w", err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var c Config
	dc := &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
			mapstructure.TextUnmarshallerHookFunc()),
		WeaklyTypedInput: true,
		ErrorUnused:      true,
		TagName:          "koanf",
	}
	if err := k.UnmarshalWithConf("", &c, koanf.UnmarshalConf{DecoderConfig: dc}); err != nil {
		return nil, fmt.Errorf("decode configuration: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// ReadFile resolves a "<key>_file" setting: the trimmed content of path.
func ReadFile(key, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// envKey maps VIGIL_SOURCE__PATH to source.path.
func envKey(name string) string {
	k := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
	return strings.ReplaceAll(k, "__", ".")
}

// unknown returns the keys not in known (a key below a known map key is
// known), sorted.
func unknown(keys []string, known map[string]bool) []string {
	var out []string
	for _, key := range keys {
		if known[key] {
			continue
		}
		ok := false
		for i := strings.LastIndexByte(key, '.'); i > 0; i = strings.LastIndexByte(key[:i], '.') {
			if known[key[:i]+".*"] {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// suggest returns a " (did you mean X?)" hint for a misspelt key.
func suggest(key string, known map[string]bool) string {
	best, bestD := "", 4
	for k := range known {
		if strings.HasSuffix(k, ".*") {
			continue
		}
		if d := distance(key, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// toMap converts a config struct into nested maps keyed by koanf tags
// (honouring ",squash"), recording every leaf key in known. Map-typed fields
// are recorded as "key.*".
func toMap(v reflect.Value, prefix string, out map[string]any, known map[string]bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("koanf")
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if opts == "squash" {
			toMap(fv, prefix, out, known)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		switch {
		case fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Time{}):
			sub := map[string]any{}
			toMap(fv, key+".", sub, known)
			out[name] = sub
		case fv.Kind() == reflect.Map:
			known[key+".*"] = true
			known[key] = true
			out[name] = fv.Interface()
		default:
			known[key] = true
			out[name] = leaf(fv)
		}
	}
}

// leaf returns a value as koanf should hold it: durations as strings (so a
// later string override decodes the same way), slices copied.
func leaf(v reflect.Value) any {
	if d, ok := v.Interface().(time.Duration); ok {
		return d.String()
	}
	if v.Kind() == reflect.Slice {
		if v.IsNil() {
			return []any{}
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = leaf(v.Index(i))
		}
		return out
	}
	if v.Kind() == reflect.Struct {
		m := map[string]any{}
		toMap(v, "", m, map[string]bool{})
		return m
	}
	return v.Interface()
}

// mapProvider is a koanf provider of an in-memory nested map.
type mapProvider map[string]any

func (m mapProvider) ReadBytes() ([]byte, error)    { return nil, errors.New("not supported") }
func (m mapProvider) Read() (map[string]any, error) { return m, nil }
