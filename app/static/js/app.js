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
  document.addEventListener("htmx:sendError", () => {
    show("Couldn't reach Twoway. Nothing was lost: what you typed is still here. Try again when you're back online.");
  });
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr.status;
    show(status === 429
      ? "Too many tries in a short time. Wait a few minutes; what you typed is still here."
      : "Twoway couldn't save that. What you typed is still here: try again in a moment.");
  });
})();
