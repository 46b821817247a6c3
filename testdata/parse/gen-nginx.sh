#!/usr/bin/env bash
# Regenerates the nginx-*.log samples in this directory with a real Nginx:
# it starts Nginx on loopback (127.0.0.1 and ::1, port $PORT) with one server
# that writes every request in five log formats at once, sends normal and
# hostile requests (quotes, backslashes, control bytes, invalid UTF-8, a TLS
# handshake, oversized fields), stops Nginx and copies the logs here.
# Needs nginx and curl; run it as root or as a user who may run nginx.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-18089}
tmp=$(mktemp -d)
trap 'kill "$(cat "$tmp/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/logs"

cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp;
    proxy_temp_path $tmp;
    fastcgi_temp_path $tmp;
    uwsgi_temp_path $tmp;
    scgi_temp_path $tmp;
    large_client_header_buffers 4 64k;

    # vigil's recommended format (docs/PARSING.md).
    log_format vigil escape=json '{"time":"\$time_iso8601","remote_addr":"\$remote_addr",'
        '"request_method":"\$request_method","request_uri":"\$request_uri","request":"\$request",'
        '"status":"\$status","body_bytes_sent":"\$body_bytes_sent","http_user_agent":"\$http_user_agent",'
        '"http_referer":"\$http_referer","host":"\$host","request_time":"\$request_time",'
        '"http_x_forwarded_for":"\$http_x_forwarded_for"}';
    # The same without escape=json: Nginx's default \xHH escaping (not valid JSON).
    log_format vigil_default '{"time":"\$time_iso8601","remote_addr":"\$remote_addr",'
        '"request_method":"\$request_method","request_uri":"\$request_uri","request":"\$request",'
        '"status":"\$status","body_bytes_sent":"\$body_bytes_sent","http_user_agent":"\$http_user_agent",'
        '"http_referer":"\$http_referer","host":"\$host","request_time":"\$request_time",'
        '"http_x_forwarded_for":"\$http_x_forwarded_for"}';
    # Other shapes: time_local and msec, bare numbers, spaces, only \$request.
    log_format vigil_variant escape=json '{ "time_local": "\$time_local", "msec": \$msec, '
        '"remote_addr": "\$remote_addr", "request": "\$request", "status": \$status, '
        '"body_bytes_sent": \$body_bytes_sent, "request_time": \$request_time, '
        '"http_user_agent": "\$http_user_agent", "extra": {"connection": \$connection} }';
    log_format combined_xff '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent '
        '"\$http_referer" "\$http_user_agent" "\$http_x_forwarded_for"';

    server {
        listen 127.0.0.1:$PORT;
        listen [::1]:$PORT;
        server_name localhost;
        access_log $tmp/logs/json.log vigil;
        access_log $tmp/logs/json-default.log vigil_default;
        access_log $tmp/logs/json-variant.log vigil_variant;
        access_log $tmp/logs/combined.log combined;
        access_log $tmp/logs/combined-xff.log combined_xff;
        location / { return 200 "ok\n"; }
        location = /missing { return 404; }
        location /private { auth_basic "x"; auth_basic_user_file /dev/null; }
    }
}
CONF

nginx -p "$tmp" -c "$tmp/nginx.conf"
for _ in $(seq 50); do [ -s "$tmp/nginx.pid" ] && break; sleep 0.1; done

base="http://127.0.0.1:$PORT"
ua='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
c() { curl -s -o /dev/null --max-time 5 "$@" || true; }
# raw sends bytes as they are (printf escapes) and reads the answer.
raw() {
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf "$1" >&3
  timeout 5 cat <&3 >/dev/null || true
  exec 3<&- 3>&-
}

c -A "$ua" -e "https://example.com/" "$base/"
c -A "$ua" "$base/index.html?utm_source=news&id=42"
c -A "$ua" "$base/search?q=%27+OR+1%3D1--"
c -A "curl/8.5.0" "$base/..%2f..%2fetc/passwd"
c -A "sqlmap/1.8#stable (https://sqlmap.org)" "$base/item?id=1%20AND%201=1"
c -A "$ua" -X POST -d 'user=admin&pass=x' "$base/login"
c -A "$ua" -X PROPFIND "$base/dav/"
c -A "$ua" "$base/missing"
c -A "$ua" -u 'bob:secret' "$base/private/"
c -A "$ua" -H 'X-Forwarded-For: 203.0.113.7, 198.51.100.2' "$base/behind-proxy"
c -A "$ua" -H 'X-Forwarded-For: "203.0.113.9", [2001:db8::7]:443, 192.0.2.1:8080' "$base/xff-forms"
c -A "" "$base/no-ua"
c -g -A "$ua" "http://[::1]:$PORT/v6?x=1"
c -g -A "$ua" -H 'X-Forwarded-For: 2001:db8:1::42' "http://[::1]:$PORT/v6-proxied"
c -A "$(printf 'A%.0s' $(seq 6000))" "$base/huge-ua"
c -A "$ua" "$base/huge-uri/$(printf 'x%.0s' $(seq 20000))"
# Hostile bytes in the request line and headers: quote, backslash, control
# bytes, valid UTF-8 (é, 😀) and invalid UTF-8 (\xff\xfe, a lone \xc3).
raw 'GET /q"u\\ote?a="b"&c=\\x22 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: evil "agent" \\ \x01\x1b[31m\t\xc3\xa9 \xf0\x9f\x98\x80 \xff\xfe \xc3\r\nReferer: http://ex.com/?r="\\"\r\nConnection: close\r\n\r\n'
raw 'GET /caf\xc3\xa9/\xff HTTP/1.1\r\nHost: localhost\r\nUser-Agent: () { :; }; /bin/bash -c "id"\r\nConnection: close\r\n\r\n'
raw 'GET /a b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
raw 'GET http://evil.example/proxy HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n'
raw 'GET /old HTTP/1.0\r\n\r\n'
raw '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5e\x8f\x22\x5c\x00\x01\x02 garbage\r\n\r\n'
raw 'HELLO\r\n\r\n'

# Nginx writes the access log after the response; give it a moment.
sleep 0.5
kill "$(cat "$tmp/nginx.pid")"
for _ in $(seq 50); do [ -e "$tmp/nginx.pid" ] || break; sleep 0.1; done
for f in json json-default json-variant combined combined-xff; do
  cp "$tmp/logs/$f.log" "$here/nginx-$f.log"
done
wc -l "$here"/nginx-*.log
