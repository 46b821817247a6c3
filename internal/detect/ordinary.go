package detect

// ordinaryText is a sample of ordinary request fields: browser, crawler and
// library User-Agents, URLs, paths, query strings and common words. The
// literal index anchors each literal at the window of it that is least
// frequent here, so that ordinary traffic rarely needs a closer look. It
// only affects speed, never what is detected.
const ordinaryText = `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0
Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15
Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0
Mozilla/5.0 (X11; Ubuntu; Linux i686; rv:109.0) Gecko/20100101 Firefox/115.0
Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1
Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1
Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.180 Mobile Safari/537.36
Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; Nexus 5 Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30 OPR/80.0 YaBrowser/24.1 SamsungBrowser/23.0 UCBrowser/13.4
Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; SLCC2; .NET CLR 2.0.50727; .NET CLR 3.5.30729; Media Center PC 6.0; InfoPath.3)
Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) Googlebot-Image/1.0 AdsBot-Google
Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36
Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots) DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)
Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/) Baiduspider/2.0 Applebot/0.1 facebookexternalhit/1.1 Twitterbot/1.0 Slackbot-LinkExpanding 1.0
Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/) Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)
curl/8.5.0 Wget/1.21.4 python-requests/2.32.3 Python-urllib/3.11 aiohttp/3.10.5 Go-http-client/1.1 Go-http-client/2.0 okhttp/4.12.0
Apache-HttpClient/4.5.14 (Java/17.0.12) Java/1.8.0_151 node-fetch/1.0 (+https://github.com/bitinn/node-fetch) axios/1.6.8 Dart/3.2 (dart:io)
Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001) CFNetwork/1494.0.7 Darwin/23.4.0 PostmanRuntime/7.36.3 Prometheus/2.51.0
https://www.example.com/ https://www.google.com/ https://www.bing.com/search?q=example https://duckduckgo.com/ https://t.co/abc https://m.facebook.com/
https://www.example.com/products/1036/hiking-backpack-35l?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale
https://www.example.com/category/electronics?page=4&sort=price_asc&size=42&color=blue https://www.example.com/blog/2024/05/how-we-scaled-postgres
/static/css/app.3f9c1a.css /static/js/runtime.8b21e0.js /static/js/vendor.c7d4f2.min.js /static/fonts/inter-var.woff2 /static/img/logo.svg
/images/logo@2x.png /favicon.ico /robots.txt /sitemap.xml /feed.xml /index.html /apple-touch-icon.png /manifest.json /.well-known/security.txt
/api/v1/users/1234/orders?limit=20&offset=40&sort=-created_at&status=open&since=1767571140&include=items,shipping
/api/v2/search?query=red+running+shoes&lang=en-US&currency=EUR&ids=1233%2C8736%2C4304&fields=id,name,price&format=json
/search?q=the+%22good%22+knife&page=2 /login?next=%2Faccount%2Fsettings /account/profile /cart/checkout /docs/getting-started
/wp-content/uploads/2024/01/image-1024x768.jpg /en/about-us/contact /de/produkte/angebote /fr/a-propos /assets/index-BxJ5k2.js
the and for with from this that your about more information download account settings service support home page news events
product products shipping delivery order orders customer privacy policy terms conditions contact help search results view edit
`
