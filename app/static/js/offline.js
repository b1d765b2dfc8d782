// Nothing typed is lost: drafts, the outbox of writes typed offline, and focus after a swap.
// Everything here belongs to the person signed in (the page's twoway-owner, "id:generation"):
// it is cleared at sign-out, and when the page shows that a sign-out happened elsewhere or that
// someone else signed in on this device. Signed-out pages keep nothing.
(() => {
  "use strict";

  const Outbox = window.TwowayOutbox;
  const meta = document.querySelector('meta[name="twoway-owner"]');
  const [user, generation] = meta ? meta.content.split(":").map(Number) : [null, null];
  const DRAFT = "twoway-draft:";
  const draftKey = (action) => `${DRAFT}${user}:${action}`;
  const pathOf = (url) => new URL(url, window.location.href).pathname;
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  // --- Sign-out clears this device ------------------------------------------------------------
  const forgetDrafts = (keep) => {
    for (const key of Object.keys(window.localStorage)) {
      if (key.startsWith(DRAFT) && !(keep && key.startsWith(`${DRAFT}${keep}:`))) window.localStorage.removeItem(key);
    }
  };
  // The copy of the home the service worker keeps for opening the app offline (pwa/sw.js), in a
  // cache named "twoway-home:id:generation". Dropped with the drafts and the outbox: all of them at
  // sign-out, and any but this page's owner's when another person or a newer session shows here
  // (a page of an older session, served from that copy, changes nothing).
  const HOME = "twoway-home:";
  const forgetKeptHomes = async (keepUser, keepGeneration) => {
    if (!window.caches) return;
    for (const key of await window.caches.keys()) {
      if (!key.startsWith(HOME)) continue;
      const [keptUser, keptGeneration] = key.slice(HOME.length).split(":").map(Number);
      if (keptUser === keepUser && keptGeneration >= keepGeneration) continue;
      await window.caches.delete(key);
    }
  };
  const forgetAll = async () => {
    forgetDrafts(null);
    // At once, so the sign-out waits no longer than it did for the outbox alone.
    await Promise.all([
      forgetKeptHomes(null, null).catch(() => {}),
      Outbox ? Outbox.clear().catch(() => {}) : null,
    ]);
  };
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !form.action || pathOf(form.action) !== "/auth/sign-out" || form.dataset.cleared) return;
    // Cleared before the sign-out is sent: the next person on this device finds none of it.
    event.preventDefault();
    forgetAll().finally(() => {
      form.dataset.cleared = "1";
      form.submit();
    });
  });
  // The offline page (public, drawn without a session) lists what waits, so nothing typed seems lost.
  const waitingList = document.getElementById("outbox-offline");
  if (!user && Outbox && waitingList) {
    Outbox.entries().then((held) => {
      if (!held.length) return;
      const list = waitingList.querySelector("ul");
      for (const entry of held) {
        const item = document.createElement("li");
        item.textContent = entry.label;
        list.append(item);
      }
      waitingList.hidden = false;
    }).catch(() => {});
  }
  if (!user || !Outbox) return;

  // --- Drafts: typed text kept on the device as it is typed ------------------------------------
  const TEXT = "textarea, input[type=text], input:not([type])";
  const draftable = (form) => form.method === "post" && !form.hasAttribute("data-no-draft") && form.querySelector(TEXT);
  const typed = (form) => {
    const fields = {};
    for (const field of form.querySelectorAll(TEXT)) {
      if (field.name && field.autocomplete !== "one-time-code") fields[field.name] = field.value;
    }
    return fields;
  };
  const readDraft = (action) => {
    try {
      return JSON.parse(window.localStorage.getItem(draftKey(action)) || "null");
    } catch (_error) {
      return null;
    }
  };
  const saveDraft = (form) => {
    const fields = typed(form);
    const action = pathOf(form.action);
    if (Object.values(fields).every((value) => !value.trim())) {
      window.localStorage.removeItem(draftKey(action));
      return;
    }
    try {
      window.localStorage.setItem(draftKey(action), JSON.stringify({ at: Date.now(), fields }));
    } catch (_error) {
      // The device is full: the form itself still holds the text.
    }
  };
  const dropDraft = (action) => window.localStorage.removeItem(draftKey(action));

  document.addEventListener("input", (event) => {
    const form = event.target.form;
    if (form && event.target.matches(TEXT) && draftable(form)) saveDraft(form);
  });
  // Saved: a success answer to an htmx form (before it is swapped in, so the fresh form isn't
  // offered the words just saved), or a plain form sent (its errors come back in it).
  document.addEventListener("htmx:beforeSwap", (event) => {
    // detail.elt is the element swapped; the form that asked is the request's.
    const asking = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
    const form = asking && asking.closest && asking.closest("form");
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (form && form.action && status >= 200 && status < 300) dropDraft(pathOf(form.action));
  });
  // A plain form (htmx prevents the default of its own) leaves the page: its draft is marked sent,
  // and forgotten once the next page arrives without an error. A submission that never arrived
  // (the network went) or came back with errors keeps it.
  const SENT_FOR_MS = 30000;
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || form.hasAttribute("hx-post") || !form.action) return;
    const action = pathOf(form.action);
    const draft = readDraft(action);
    if (!draft) return;
    try {
      window.localStorage.setItem(draftKey(action), JSON.stringify({ ...draft, sentAt: Date.now() }));
    } catch (_error) {
      // Full: it stays a plain draft.
    }
  });
  const settleSentDrafts = () => {
    const [navigation] = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    const arrived = navigation && navigation.type === "navigate" && (navigation.responseStatus || 200) < 400;
    for (const key of Object.keys(window.localStorage)) {
      if (!key.startsWith(`${DRAFT}${user}:`)) continue;
      const draft = readDraft(key.slice(`${DRAFT}${user}:`.length));
      if (!draft || !draft.sentAt) continue;
      if (arrived && Date.now() - draft.sentAt < SENT_FOR_MS) window.localStorage.removeItem(key);
      else if (Date.now() - draft.sentAt >= SENT_FOR_MS) {
        delete draft.sentAt;
        window.localStorage.setItem(key, JSON.stringify(draft));
      }
    }
  };

  const offerDrafts = (root) => {
    const forms = root.matches && root.matches("form") ? [root] : [...root.querySelectorAll("form")];
    for (const form of forms) {
      if (!draftable(form) || form.querySelector(".draft-offer")) continue;
      const draft = readDraft(pathOf(form.action));
      if (!draft) continue;
      const now = typed(form);
      const differs = Object.entries(draft.fields).some(([name, value]) => name in now && value && value !== now[name]);
      if (!differs) continue;
      const offer = document.createElement("p");
      offer.className = "notice draft-offer";
      offer.setAttribute("role", "status");
      const when = new Date(draft.at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
      offer.append(`You have words typed here on this device that weren't saved (${when}). `);
      const back = document.createElement("button");
      back.type = "button";
      back.className = "button small";
      back.textContent = "Put them back";
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "link-button";
      discard.textContent = "Discard them";
      offer.append(back, " ", discard);
      back.addEventListener("click", () => {
        for (const [name, value] of Object.entries(draft.fields)) {
          const field = form.elements.namedItem(name);
          if (field && field.matches && field.matches(TEXT)) field.value = value;
        }
        offer.remove();
        const first = form.querySelector(TEXT);
        if (first) first.focus();
      });
      discard.addEventListener("click", () => {
        dropDraft(pathOf(form.action));
        offer.remove();
      });
      form.prepend(offer);
    }
  };

  // --- Focus after an htmx swap returns to where the person was --------------------------------
  let focused = null;
  document.addEventListener("htmx:beforeSwap", () => {
    const active = document.activeElement;
    if (!active || active === document.body) {
      focused = null;
      return;
    }
    const form = active.form || active.closest("form");
    focused = {
      id: active.id,
      name: active.name,
      action: form && form.action ? pathOf(form.action) : null,
      tag: active.tagName,
      text: active.tagName === "BUTTON" ? active.textContent.trim() : null,
      start: typeof active.selectionStart === "number" ? active.selectionStart : null,
      end: typeof active.selectionEnd === "number" ? active.selectionEnd : null,
    };
  });
  document.addEventListener("htmx:afterSettle", () => {
    const was = focused;
    focused = null;
    const active = document.activeElement;
    if (!was || (active && active !== document.body && active.isConnected)) return;
    let again = was.id ? document.getElementById(was.id) : null;
    if (!again && was.action) {
      const form = [...document.querySelectorAll("form")].find((f) => f.action && pathOf(f.action) === was.action);
      const same = form ? [...form.querySelectorAll(was.tag)] : [];
      again = was.name ? form && form.elements.namedItem(was.name) : same.find((el) => el.textContent.trim() === was.text);
    }
    if (!again || typeof again.focus !== "function") return;
    again.focus({ preventScroll: true });
    if (was.start !== null && typeof again.setSelectionRange === "function" && again.value !== undefined) {
      try {
        again.setSelectionRange(Math.min(was.start, again.value.length), Math.min(was.end, again.value.length));
      } catch (_error) {
        // Not a text field after all.
      }
    }
  });

  // --- The outbox: writes typed offline, sent when the network is back ---------------------------
  // What can be written offline, by the address it is sent to.
  const CAPTURED = [
    [/^\/pairs\/\d+\/topics$/, "topic"],
    [/^\/pairs\/\d+\/journal\/actions\/\d+\/toggle$/, "tick"],
    [/^\/pairs\/\d+\/journal\/new$/, "meeting"],
    [/^\/pairs\/\d+\/journal\/meetings\/\d+$/, "notes"],
    [/^\/pairs\/\d+\/journal\/meetings\/\d+\/reflection$/, "reflection"],
  ];
  const kindOf = (form) => {
    if (!form || !form.action || form.method !== "post") return null;
    const path = pathOf(form.action);
    const found = CAPTURED.find(([pattern]) => pattern.test(path));
    return found ? found[1] : null;
  };
  const newKey = () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const labelOf = (kind, form, fields) => {
    const get = (name) => (fields.find(([key]) => key === name) || [])[1] || "";
    if (kind === "topic") return `Topic “${get("text")}”`;
    if (kind === "tick") {
      const item = form.closest("li");
      const text = item && item.querySelector(".action-text") ? item.querySelector(".action-text").textContent.trim() : "an action item";
      return `${get("done") === "0" ? "Not done" : "Done"}: “${text}”`;
    }
    if (kind === "meeting") return `The meeting of ${get("held_on") || "today"}`;
    if (kind === "notes") return "Changes to a meeting's notes";
    return "Your private reflection";
  };
  // What the person sees at once: the form as if it had been sent, and the waiting list.
  const showQueued = (kind, form) => {
    if (kind === "topic") {
      const text = form.querySelector(TEXT);
      if (text) text.value = "";
      const key = form.querySelector('input[name="idempotency_key"]');
      if (key) key.value = newKey();
    } else if (kind === "tick") {
      const done = form.querySelector('input[name="done"]');
      const button = form.querySelector("button.tick");
      const nowDone = done && done.value === "1";
      if (done) done.value = nowDone ? "0" : "1";
      if (button) {
        button.setAttribute("aria-pressed", nowDone ? "true" : "false");
        button.querySelector("span").textContent = nowDone ? "✓" : "";
      }
      const item = form.closest("li");
      if (item) item.classList.toggle("is-done", nowDone);
    }
  };

  // Entries written on this page: the person is looking at it, so a conflict one of them meets
  // (sent by this page or by the service worker) opens its conflict view at once. Older ones wait
  // in "needs you".
  const madeHere = new Set();
  const openConflictMadeHere = async () => {
    const conflict = (await Outbox.entries()).find((e) => e.state === "needs-you" && e.status === 409 && madeHere.has(e.id));
    if (conflict) await openEntry(conflict);
  };

  const capture = async (form) => {
    const kind = kindOf(form);
    const fields = [...new FormData(form)].filter(([name, value]) => name !== "csrf_token" && typeof value === "string");
    // Forms without a key of their own (a tick, a versioned edit) get one anyway: a view that
    // doesn't read it is made safe to repeat otherwise (a tick sets a state, a version check).
    if (!fields.some(([name]) => name === "idempotency_key")) fields.push(["idempotency_key", newKey()]);
    const path = pathOf(form.action);
    const id = await Outbox.add({
      owner: user,
      generation,
      kind,
      url: path,
      fields,
      label: labelOf(kind, form, fields),
      replaces: kind === "tick" ? path : null,
    });
    madeHere.add(id);
    if (kind === "topic") dropDraft(path);
    showQueued(kind, form);
    await drawPanel();
    requestSync();
  };

  const requestSync = () => {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready
      .then((registration) => registration.sync && registration.sync.register(Outbox.SYNC_TAG))
      .catch(() => {
        // No Background Sync here: the next visit sends it.
      });
  };

  // Offline already: the write goes to the outbox without trying the network. Caught on the way
  // down and stopped there, so nothing else counts it as a request in flight (app.js's probe).
  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form");
    if (navigator.onLine || !kindOf(form)) return;
    event.preventDefault();
    event.stopPropagation();
    capture(form).catch(() => failedToKeep());
  }, true);
  // The network failed on the way: keep it (if the server did get it, its key makes the replay
  // answer as the first time, without making it again). Listened for on the body, so app.js's
  // "couldn't reach Twoway" (on the document) knows it was kept.
  document.body.addEventListener("htmx:sendError", (event) => {
    const form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form");
    if (!kindOf(form)) return;
    event.detail.queued = true;
    capture(form).catch(() => failedToKeep());
  });
  const failedToKeep = () => {
    const toast = document.getElementById("request-error");
    if (!toast) return;
    toast.textContent = "Couldn't reach Twoway, and this device couldn't keep it for later. What you typed is still here.";
    toast.hidden = false;
  };

  // The list of what waits and of what needs the person, at the top of the page.
  const panel = () => {
    let element = document.getElementById("outbox");
    if (!element) {
      element = document.createElement("section");
      element.id = "outbox";
      element.className = "card outbox";
      element.setAttribute("aria-labelledby", "outbox-heading");
      element.setAttribute("aria-live", "polite");
      const main = document.getElementById("main");
      const flashes = main ? main.querySelectorAll(":scope > .notice") : [];
      if (flashes.length) flashes[flashes.length - 1].after(element);
      else if (main) main.prepend(element);
    }
    return element;
  };
  let opening = false;
  const openEntry = async (entry) => {
    // Once: the page's replay and the service worker's message may both ask.
    if (opening) return;
    opening = true;
    // The usual page for it, drawn by the server from what was typed (the conflict view, or the
    // form with its errors). The words also stay as a draft of that form, in case that fails.
    const fields = entry.fields;
    const text = Object.fromEntries(fields.filter(([name]) => name !== "idempotency_key" && name !== "version"));
    window.localStorage.setItem(draftKey(entry.url), JSON.stringify({ at: entry.created, fields: text }));
    await Outbox.remove(entry.id);
    const form = document.createElement("form");
    form.method = "post";
    form.action = entry.url;
    form.hidden = true;
    for (const [name, value] of [...fields, ["csrf_token", csrf()]]) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  };
  const drawPanel = async () => {
    const held = (await Outbox.entries()).filter((entry) => entry.owner === user);
    if (!held.length) {
      const shown = document.getElementById("outbox");
      if (shown) shown.remove();
      return;
    }
    const element = panel();
    const waiting = held.filter((entry) => entry.state === "waiting");
    const needsYou = held.filter((entry) => entry.state === "needs-you");
    element.replaceChildren();
    const heading = document.createElement("h2");
    heading.id = "outbox-heading";
    heading.textContent = "On this device, not sent yet";
    element.append(heading);
    if (waiting.length) {
      const intro = document.createElement("p");
      intro.textContent = `Waiting to be sent (${waiting.length}): Twoway sends ${waiting.length === 1 ? "it" : "them"} when you're back online.`;
      const list = document.createElement("ul");
      list.className = "outbox-waiting";
      for (const entry of waiting) {
        const item = document.createElement("li");
        item.textContent = entry.label;
        list.append(item);
      }
      element.append(intro, list);
    }
    if (needsYou.length) {
      const intro = document.createElement("p");
      intro.textContent = "Needs you: these couldn't be saved as they were. Open each to see why; nothing you typed is lost.";
      const list = document.createElement("ul");
      list.className = "outbox-needs-you";
      for (const entry of needsYou) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button small";
        button.textContent = "Open";
        button.setAttribute("aria-label", `Open: ${entry.label}`);
        button.addEventListener("click", () => openEntry(entry));
        item.append(`${entry.label} `, button);
        list.append(item);
      }
      element.append(intro, list);
    }
  };

  let sending = false;
  const sendNow = async () => {
    if (sending || !navigator.onLine) return;
    sending = true;
    try {
      const result = await Outbox.replay(window.fetch.bind(window));
      await drawPanel();
      if (result.sent.length) document.dispatchEvent(new CustomEvent("twoway:outbox-sent", { detail: result }));
      await openConflictMadeHere();
    } catch (_error) {
      // IndexedDB unavailable or the network gone again: the next chance tries again.
    } finally {
      sending = false;
    }
  };

  // A copy kept by the service worker, shown because the network failed, says so and since when.
  const markKeptCopy = () => {
    const asOf = document.querySelector('meta[name="twoway-shown-as-of"]');
    const main = document.getElementById("main");
    if (!asOf || !main || document.getElementById("shown-as-of")) return;
    const mark = document.createElement("p");
    mark.id = "shown-as-of";
    mark.className = "notice";
    mark.setAttribute("role", "status");
    const when = new Date(asOf.content).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    mark.textContent = `Offline: shown as of ${when}. What you add or tick waits on this device and is sent when you're back online.`;
    main.prepend(mark);
  };
  markKeptCopy();

  const start = async () => {
    forgetKeptHomes(user, generation).catch(() => {});
    // Someone else's drafts go first, before the outbox is opened: where IndexedDB fails (a
    // private window, storage blocked) the next person on the device must not inherit them.
    forgetDrafts(user);
    settleSentDrafts();
    if (await Outbox.settle(user, generation)) forgetDrafts(null);
    offerDrafts(document);
    await drawPanel();
    await sendNow();
  };
  start().catch(() => {
    // No IndexedDB (a private window in some browsers): drafts still work, the outbox doesn't.
    settleSentDrafts();
    offerDrafts(document);
  });
  document.addEventListener("htmx:load", (event) => offerDrafts(event.target));
  window.addEventListener("online", () => sendNow());
  // Back online without the browser noticing (a captive portal let go): try now and then.
  window.setInterval(() => {
    if (document.visibilityState === "visible") sendNow();
  }, 15000);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.outbox) drawPanel().then(openConflictMadeHere).catch(() => {});
    });
  }
})();
