// Twoway's page behaviour. Everything works without it; this makes it nicer on a phone.
(() => {
  "use strict";

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", () => {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
        // Without a service worker Twoway still works; it just can't show the offline page.
      });
    });
  }

  // Times people type and read are on their own clock. On a first visit (the page carries
  // data-time-zone-url only while the server doesn't know it) tell the server which one, once;
  // afterwards it is changed on the account page. It waits for the page to settle and for the
  // service worker's first install (whose requests, still in flight from the sign-in, can put
  // back a session cookie without this page's CSRF token), then takes a fresh token and cookie
  // from one GET of that address and posts with them. A page restored from history never posts.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const unknownZoneUrl = document.body && document.body.dataset.timeZoneUrl;
  const [navigation] = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
  if (zone && unknownZoneUrl && !(navigation && navigation.type === "back_forward")) {
    let timer = null;
    const installed = () => Promise.race([
      "serviceWorker" in navigator ? navigator.serviceWorker.ready : Promise.resolve(),
      new Promise((resolve) => window.setTimeout(resolve, 5000)),
    ]);
    const send = async () => {
      if (document.visibilityState !== "visible") return;
      try {
        await installed();
        const page = await fetch(unknownZoneUrl, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!page.ok) return;
        const html = new DOMParser().parseFromString(await page.text(), "text/html");
        const csrf = html.querySelector('meta[name="csrf-token"]');
        if (!csrf || !html.body.dataset.timeZoneUrl) return; // signed out, or already known
        await fetch(unknownZoneUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrf.content, "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ time_zone: zone, detected: "1" }),
        });
      } catch (_error) {
        // Offline: the next page tries again.
      }
    };
    window.addEventListener("load", () => { timer = window.setTimeout(send, 1000); });
    window.addEventListener("pagehide", () => window.clearTimeout(timer));
    // A form sent first (signing out, say) moves the person on: its answer may change the
    // session, and this page's late request must not put the older cookie back over it.
    document.addEventListener("submit", () => window.clearTimeout(timer), true);
  }
  const fillZone = (root) => {
    if (!zone || !unknownZoneUrl) return;
    for (const input of root.querySelectorAll('input[name="timezone"]')) {
      // Only a new plan takes this browser's zone: an existing one was drawn on the clock the
      // form names, and re-saving it unchanged must not move the meeting.
      const version = input.form && input.form.querySelector('input[name="version"]');
      if (version && version.value && version.value !== "0") continue;
      if (!input.value || input.value === "UTC") input.value = zone;
    }
  };
  fillZone(document);
  document.addEventListener("htmx:load", (event) => fillZone(event.target));

  // Web Push, per device (the notifications page). The button shows only where this browser can
  // get push notifications and hasn't been told never to; it asks for permission, subscribes with
  // the server's VAPID key, and posts the subscription with the page's CSRF token.
  const pushSupported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  const keyBytes = (base64url) => {
    const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  };
  const sameKey = (buffer, bytes) => {
    if (!buffer) return false;
    const held = new Uint8Array(buffer);
    return held.length === bytes.length && held.every((byte, i) => byte === bytes[i]);
  };
  const sha256 = async (text) => {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  };
  const setUpPush = async (root) => {
    const box = root.querySelector && root.querySelector("[data-push]");
    // htmx:load fires for the whole body too: set each box up once.
    if (!box || box.dataset.pushReady) return;
    box.dataset.pushReady = "1";
    const button = box.querySelector("[data-push-start]");
    const status = box.querySelector("[data-push-status]");
    if (!pushSupported) {
      status.textContent = "This browser can't get notifications from Twoway. Reminders set to push come by email.";
      return;
    }
    if (Notification.permission === "denied") {
      status.textContent = "Notifications are blocked for Twoway in this browser's settings.";
      return;
    }
    const key = keyBytes(box.dataset.key);
    const registration = await navigator.serviceWorker.ready;
    const current = await registration.pushManager.getSubscription();
    if (current && sameKey(current.options.applicationServerKey, key)) {
      const hash = await sha256(current.endpoint);
      const row = document.querySelector(`[data-endpoint-hash="${hash}"] [data-this-device]`);
      if (row && Notification.permission === "granted") {
        row.hidden = false;
        status.textContent = "Notifications are on for this device.";
        return;
      }
    }
    box.querySelector("[data-push-offer]").hidden = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      status.textContent = "";
      try {
        if (await Notification.requestPermission() !== "granted") {
          status.textContent = "Notifications weren't allowed, so reminders come by email.";
          return;
        }
        let subscription = await registration.pushManager.getSubscription();
        // Made with another key (Twoway's key changed): that one can never be delivered to.
        if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
          await subscription.unsubscribe();
          subscription = null;
        }
        subscription = subscription || await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
        const csrf = document.querySelector('meta[name="csrf-token"]');
        const response = await fetch(box.dataset.url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrf.content, "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(subscription.toJSON()),
        });
        let data = {};
        try { data = await response.json(); } catch (_) { /* an error page, not JSON */ }
        if (!response.ok) throw new Error(data.error || "Twoway couldn't turn notifications on. Try again in a moment.");
        window.location.assign(data.redirect);
      } catch (error) {
        status.textContent = error.name === "AbortError" || error.name === "NotAllowedError"
          ? "This browser couldn't reach its push service. Try again later; reminders come by email meanwhile."
          : error.message;
      } finally {
        button.disabled = false;
      }
    });
  };
  const quietly = () => { /* no push here: the page works as it is, reminders come by email */ };
  setUpPush(document).catch(quietly);
  document.addEventListener("htmx:load", (event) => setUpPush(event.target).catch(quietly));

  // The partner's changes, live, on the pair's pages whose blocks say data-live (home, goals,
  // journal). While the page is visible it asks the pair's probe every few seconds whether anything
  // it shows changed since it was drawn (a 204 when not: app/pairs/changes.py); when something did,
  // it fetches itself again and brings in every part nobody is writing in. What someone is typing,
  // an edit form that is open and a box opened to add something stay exactly as they are (the
  // same elements, so the text, the caret and the focus survive): only what is around them moves.
  const space = document.querySelector("[data-changes-url]");
  if (space && window.htmx && document.querySelector("[data-live]")) {
    const EVERY_MS = Number(space.dataset.probeMs) || 5000;
    const TYPING = "input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit]):not([type=button]):not([type=reset]), textarea, select, [contenteditable]";
    let busy = false;
    let timer = null;
    // Our own writes in flight: a probe asked meanwhile would see our own change and fetch the
    // page over the answer (and its "Added for next time."), so it waits for them.
    let writing = 0;
    let wroteAt = 0;
    const isWrite = (event) => (event.detail.requestConfig?.verb || "get").toLowerCase() !== "get";
    document.body.addEventListener("htmx:beforeRequest", (event) => {
      if (isWrite(event)) {
        writing += 1;
        wroteAt = Date.now();
      }
    });
    // A write that never said it ended (a request the browser dropped) holds the probe back for
    // half a minute at most.
    const writesInFlight = () => {
      if (writing > 0 && Date.now() - wroteAt > 30000) writing = 0;
      return writing > 0;
    };

    const typedIn = (field) => {
      if (field.disabled || ["hidden", "submit", "button", "reset"].includes(field.type)) return false;
      if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
      if (field.tagName === "SELECT") return [...field.options].some((option) => option.selected !== option.defaultSelected);
      return field.value !== field.defaultValue;
    };
    // Someone is writing here: a field focused to type in or typed in, an edit form open, or a
    // box opened to add something. The same test as the ground rules', for any form.
    const inUse = (element) => {
      const active = document.activeElement;
      if (active && element.contains(active) && active.matches(TYPING)) return true;
      if (element.matches("form[data-editing]") || (element.matches("details[open]") && element.querySelector("form"))) return true;
      if (element.querySelector("form[data-editing], details[open] form")) return true;
      return [...element.querySelectorAll("input, textarea, select")].some(typedIn);
    };
    // Children matched by id, else by their place among the children of the same kind without one.
    const keyed = (parent) => {
      const seen = new Map();
      return new Map([...parent.children].map((child) => {
        if (child.id) return [child.id, child];
        const n = seen.get(child.tagName) || 0;
        seen.set(child.tagName, n + 1);
        return [`${child.tagName}:${n}`, child];
      }));
    };
    const swapIn = (old, fresh) => {
      // A button pressed a moment ago keeps the focus when it comes back.
      const active = document.activeElement;
      const focused = active && active.id && old.contains(active) ? active.id : null;
      old.replaceWith(fresh);
      htmx.process(fresh);
      const again = focused && document.getElementById(focused);
      if (again) again.focus({ preventScroll: true });
    };
    // Bring ``old`` up to date from ``fresh``: whole when nobody writes in it, else around the
    // children someone writes in, which stay where they are (even if the partner removed them:
    // saving then says what happened, and nothing typed is lost).
    const merge = (old, fresh) => {
      if (!inUse(old)) {
        swapIn(old, fresh);
        return;
      }
      const before = keyed(old);
      const kept = new Set();
      const wanted = [...keyed(fresh)].map(([key, child]) => {
        const match = before.get(key);
        if (!match || !inUse(match)) return child;
        merge(match, child);
        kept.add(match);
        return match;
      });
      for (const child of [...old.children]) {
        if (kept.has(child)) continue;
        if (inUse(child)) kept.add(child);
        else child.remove();
      }
      let cursor = null;
      for (const child of wanted) {
        if (!kept.has(child)) {
          old.insertBefore(child, cursor ? cursor.nextSibling : old.firstChild);
          htmx.process(child);
        }
        cursor = child;
      }
    };
    const refresh = async () => {
      // Never followed to the sign-in page: fetched, it would start a session of its own and
      // replace the cookie of a sign-in begun meanwhile on this device.
      const response = await fetch(window.location.href, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
        redirect: "manual",
      });
      if (!response.ok || writesInFlight()) return;
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      if (writesInFlight()) return; // a write of ours started meanwhile: its answer comes first
      const drawn = html.querySelector("[data-changes-url]");
      if (!drawn) return; // signed out meanwhile: the next click says so
      for (const block of document.querySelectorAll("[data-live]")) {
        const fresh = block.id && html.getElementById(block.id);
        if (fresh) merge(block, document.adoptNode(fresh));
      }
      space.dataset.changes = drawn.dataset.changes;
    };
    const probe = async () => {
      if (busy || writesInFlight() || document.visibilityState !== "visible") return;
      busy = true;
      try {
        const response = await fetch(`${space.dataset.changesUrl}?since=${space.dataset.changes}`, {
          credentials: "same-origin",
          cache: "no-store",
          redirect: "manual", // signed out: see refresh()
        });
        // 200 says the count now; when it is the one our own write just told us of, the page
        // already shows everything.
        if (response.status === 200 && !writesInFlight() && (await response.text()).trim() !== space.dataset.changes) {
          await refresh();
        }
      } catch (_) {
        // Offline for a moment: the next probe tries again.
      } finally {
        busy = false;
      }
    };
    // Our own writes answer with the count before and after them: when nothing else came in
    // between, the page already shows it and only the count follows.
    document.body.addEventListener("htmx:afterRequest", (event) => {
      if (isWrite(event)) writing = Math.max(0, writing - 1);
      const counts = event.detail.xhr && event.detail.xhr.getResponseHeader("Twoway-Changes");
      if (!counts) return;
      const [before, after] = counts.split(" ");
      if (before === space.dataset.changes) space.dataset.changes = after;
    });
    // Asks only while the page is visible: a phone in a pocket or a tab behind others asks nothing.
    const start = () => { if (timer === null) timer = window.setInterval(probe, EVERY_MS); };
    const stop = () => { window.clearInterval(timer); timer = null; };
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") {
        probe();
        start();
      } else {
        stop();
      }
    });
    window.addEventListener("pagehide", stop);
    window.addEventListener("pageshow", () => { if (document.visibilityState === "visible") start(); });
    if (document.visibilityState === "visible") start();
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-reload]")) window.location.reload();
    if (event.target.closest("[data-print]")) window.print();
  });

  // A plain form that undoes something asks first (htmx forms use hx-confirm).
  document.addEventListener("submit", (event) => {
    const message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // When htmx can't save, say so, and leave the form (with what was typed) exactly as it is.
  const toast = () => document.getElementById("request-error");
  const show = (message) => {
    const element = toast();
    if (!element) return;
    element.textContent = message;
    element.hidden = false;
    window.setTimeout(() => { element.hidden = true; }, 8000);
  };
  document.addEventListener("htmx:sendError", (event) => {
    // Kept on the device to send later (offline.js says so itself).
    if (event.detail.queued) return;
    show("Couldn't reach Twoway. Nothing was lost: what you typed is still here. Try again when you're back online.");
  });
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr.status;
    show(status === 429
      ? "Too many tries in a short time. Wait a few minutes; what you typed is still here."
      : "Twoway couldn't save that. What you typed is still here: try again in a moment.");
  });
})();
