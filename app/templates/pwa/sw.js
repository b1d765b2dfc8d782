// Twoway's service worker. It keeps only the public shell (styles, scripts, icons, the offline
// page). Pages are personal, so they always come from the network and are never stored here.
const CACHE = "twoway-shell-{{ version }}";
const OFFLINE_URL = "{{ offline_url }}";
const SHELL = {{ ([offline_url] + shell) | tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    // Network first; the offline page only when the network fails. Nothing is put in the cache.
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    return;
  }
  // htmx requests and everything else outside the shell go straight to the network.
  if (request.headers.get("HX-Request") || !SHELL.includes(url.pathname)) return;
  event.respondWith(caches.match(request).then((cached) => cached || fetch(request)));
});
