// Twoway's service worker. It keeps only the public shell (styles, scripts, icons, the offline
// page). Pages are personal, so they always come from the network and are never stored here.
const CACHE = "twoway-shell-{{ version }}";
const OFFLINE_URL = "{{ offline_url }}";
const SHELL = {{ ([offline_url] + shell) | tojson }};
// The device's outbox (writes typed offline), shared with the pages.
importScripts({{ outbox_script | tojson }});

self.addEventListener("install", (event) => {
  // Without cookies: the shell is public, and a response to a request sent with the session
  // cookie (the offline page draws a CSRF token) could land after a sign-in or sign-out and put
  // an older session back, so the next form would fail its CSRF check.
  const requests = SHELL.map((url) => new Request(url, { credentials: "omit" }));
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(requests)).then(() => self.skipWaiting())
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

// Web Push (app/reminders/push.py): the payload is {title, body, url, tag}. Only a page of this
// origin is ever opened from it, whatever the payload says.
const ICON = {{ url_for("static", filename="icons/icon-192.png") | tojson }};
const ownPage = (raw) => {
  if (typeof raw !== "string" || !raw) return new URL("/", self.location.origin).href;
  try {
    const url = new URL(raw, self.location.origin);
    if (url.origin === self.location.origin) return url.href;
  } catch (_error) {
    // Not a URL: fall through to the home page.
  }
  return new URL("/", self.location.origin).href;
};

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = (event.data && event.data.json()) || {};
  } catch (_error) {
    data = {};
  }
  const text = (value) => (typeof value === "string" ? value : "");
  event.waitUntil(
    self.registration.showNotification(text(data.title) || "Twoway", {
      body: text(data.body),
      tag: text(data.tag) || undefined,
      icon: ICON,
      badge: ICON,
      data: { url: ownPage(data.url) },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = ownPage(event.notification.data && event.notification.data.url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      // A window already showing that page is brought forward. Any other Twoway window is left
      // as it is (it may hold a half-typed form): the page opens beside it, in the app if installed.
      const showing = windows.find((client) => client.url.split("#")[0] === target.split("#")[0]);
      if (showing) return showing.focus();
      return self.clients.openWindow(target);
    })
  );
});

// Background Sync: what was typed offline is sent once the network is back, even with no Twoway
// page open. A write met by a conflict waits for the person ("needs you", shown at the next visit);
// when the network is still down the sync fails, so the browser tries again later.
self.addEventListener("sync", (event) => {
  if (event.tag !== self.TwowayOutbox.SYNC_TAG) return;
  event.waitUntil(
    self.TwowayOutbox.replay(fetch).then(async (result) => {
      for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage({ outbox: "changed" });
      if (result.stopped === "offline") throw new Error("Still offline: the browser will try again.");
    })
  );
});
