// Twoway's service worker. It keeps the public shell (styles, scripts, icons, the offline page)
// and, apart from it, one copy of the signed-in person's home (see "The home kept for opening the
// app offline" below). Pages always come from the network first.
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
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE && !isHome(key)).map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    // Network first; when the network fails, the person's kept home (for its address), else the
    // offline page. Never cache first: a kept copy is only ever what the network couldn't give.
    event.respondWith(
      fetch(request)
        .then((response) => {
          event.waitUntil(keepHome(response.clone()).catch(() => {}));
          return response;
        })
        .catch(async () => (await keptHome(request).catch(() => null)) || caches.match(OFFLINE_URL))
    );
    return;
  }
  // htmx requests and everything else outside the shell go straight to the network.
  if (request.headers.get("HX-Request") || !SHELL.includes(url.pathname)) return;
  event.respondWith(caches.match(request).then((cached) => cached || fetch(request)));
});

// --- The home kept for opening the app offline -------------------------------------------------
// Opened on a train, the installed app shows the pair's home as it last was, so a topic can be
// added or an action item ticked (offline.js puts them in the outbox). Pages answer
// Cache-Control: no-store, and that stays true of every cache between the server and the device:
// keeping this one copy here is a deliberate choice of the device, for its own signed-in person.
// Only pages that say so (<meta name="twoway-offline-copy">: the pair home and the list of pairs,
// never an admin's, app/authz.py) are kept, in a cache named after their owner (the page's
// twoway-owner, "id:generation"). Any page of someone else, of a newer session, or of nobody
// signed in drops it; offline.js drops it at sign-out too, with the drafts and the outbox.
const HOME = "twoway-home:";
const START_URL = new URL("/start", self.location.origin).href;
const isHome = (key) => key.startsWith(HOME);
const homeOwner = (key) => key.slice(HOME.length).split(":").map(Number);
const ownerOf = (html) => {
  const found = html.match(/<meta name="twoway-owner" content="(\d+):(\d+)">/);
  return found ? [Number(found[1]), Number(found[2])] : null;
};

const keepHome = async (response) => {
  const type = response.headers.get("Content-Type") || "";
  if (response.type !== "basic" || !type.startsWith("text/html")) return;
  const html = await response.text();
  const owner = ownerOf(html);
  const homes = (await caches.keys()).filter(isHome);
  if (!owner) {
    // Nobody is signed in here now (signed out, or the session ended): keep nothing of anyone.
    await Promise.all(homes.map((key) => caches.delete(key)));
    return;
  }
  const [user, generation] = owner;
  // A page drawn before a later sign-in of the same person (an answer arriving late) changes nothing.
  if (homes.some((key) => homeOwner(key)[0] === user && homeOwner(key)[1] > generation)) return;
  const name = `${HOME}${user}:${generation}`;
  await Promise.all(homes.filter((key) => key !== name).map((key) => caches.delete(key)));
  if (!response.ok || !html.includes('<meta name="twoway-offline-copy"')) return;
  // The kept copy says when it was drawn; offline.js shows "Offline: shown as of …" from it.
  const marked = html.replace("<head>", `<head>\n  <meta name="twoway-shown-as-of" content="${new Date().toISOString()}">`);
  // Its own headers (the Content-Security-Policy above all), bar those of the body it no longer has.
  const headers = new Headers(response.headers);
  for (const name of ["Content-Length", "Content-Encoding"]) headers.delete(name);
  const copy = () => new Response(marked, { headers });
  const cache = await caches.open(name);
  // /start (the installed app's start address) shows the page kept last: the one pair's home it
  // leads to, or the list of pairs.
  await Promise.all([cache.put(response.url.split("#")[0], copy()), cache.put(START_URL, copy())]);
};

const keptHome = async (request) => {
  const homes = (await caches.keys()).filter(isHome);
  if (homes.length !== 1) return null;
  return (await caches.open(homes[0])).match(request.url.split("#")[0]);
};

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
