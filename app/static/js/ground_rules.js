// Live ground rules: while the page is visible, ask every few seconds whether the partner changed
// anything (a 204 when not), and bring their changes in without touching what someone is typing:
// a clause being edited, or a clause being added in the "Add a clause" box.
(() => {
  "use strict";
  const root = document.querySelector("[data-ground-rules]");
  if (!root || !window.htmx) return;

  const EVERY_MS = Number(root.dataset.probeMs) || 5000;
  let busy = false;
  // Who added, moved or dropped a clause while someone was typing, and the version that made the
  // list stale: it catches up as soon as they save or cancel, or ask for it with "Show the latest".
  let behind = null;

  const list = () => document.getElementById("clauses");

  // Someone is writing here: an open edit form, or the "Add a clause" box opened or typed in.
  function inUse(element) {
    if (!element || element.nodeType !== Node.ELEMENT_NODE) return false;
    if (element.querySelector("form[data-editing]")) return true;
    const adding = element.querySelector("form[data-adding]");
    if (!adding) return false;
    if (element.open) return true;
    return [...adding.querySelectorAll("input:not([type=hidden]), textarea")].some((field) => field.value.trim() !== "");
  }

  const cardsInUse = () => {
    const clauses = list();
    return clauses ? [...clauses.children].filter(inUse) : [];
  };

  function note(card, selector, message) {
    const element = card.querySelector(selector);
    if (!element) return;
    const text = element.querySelector("[data-remote-message]") || element;
    text.textContent = message;
    element.hidden = false;
  }

  function tellBehind() {
    for (const card of cardsInUse()) {
      note(card, "[data-remote-structure]", `${behind.by} added, moved or dropped a clause. You can keep typing: nothing you wrote is touched.`);
    }
  }

  // Bring the list of clauses up to date from ``html`` (the #clauses block) while every card in
  // ``keep`` stays exactly where and as it is: the same element, so what is typed in it, the
  // caret and the focus survive. Only the cards around it are replaced.
  function merge(html, keep) {
    const clauses = list();
    if (!clauses) return;
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.getElementById("clauses");
    if (!fresh) return;
    const kept = new Map([...keep].filter((card) => card.parentNode === clauses && card.id).map((card) => [card.id, card]));
    const wanted = [...fresh.children].map((card) => kept.get(card.id) || card);
    for (const card of [...clauses.children]) {
      if (!kept.has(card.id)) card.remove();
    }
    clauses.dataset.version = fresh.dataset.version;
    if (behind && behind.version <= Number(fresh.dataset.version)) behind = null;
    let cursor = null;
    for (const card of wanted) {
      if (kept.has(card.id)) {
        cursor = card;
        continue;
      }
      clauses.insertBefore(card, cursor ? cursor.nextSibling : clauses.firstChild);
      htmx.process(card);
      cursor = card;
    }
    for (const [id, card] of kept) {
      card.querySelectorAll("[data-remote-structure]").forEach((element) => { element.hidden = true; });
      if (!fresh.querySelector(`#${CSS.escape(id)}`) && card.querySelector("form[data-editing]")) {
        note(card, "[data-remote-change]", "Your partner dropped this clause. What you wrote is still here: save it to keep it and add it back as a new clause.");
      }
    }
  }

  async function catchUp(alsoKeep = []) {
    if (!behind) return;
    try {
      const response = await fetch(root.dataset.pageUrl, {
        headers: { "HX-Request": "true", "HX-Target": "clauses" },
        credentials: "same-origin",
        redirect: "manual", // signed out: never fetch the sign-in page (app.js says why)
      });
      if (!response.ok) throw new Error(String(response.status));
      merge(await response.text(), new Set([...cardsInUse(), ...alsoKeep]));
    } catch (_) {
      // Offline for a moment: still behind, so the next save, cancel or probe tries again.
    }
  }

  async function probe() {
    if (busy || document.visibilityState !== "visible") return;
    busy = true;
    try {
      // The status card says how many agreed when it was drawn: agreeing doesn't move the version.
      const status = document.getElementById("agreement_status");
      const agreed = status && status.dataset.agreed !== undefined ? `&agreed=${status.dataset.agreed}` : "";
      const response = await fetch(`${root.dataset.probeUrl}?since=${root.dataset.version}${agreed}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        redirect: "manual",
      });
      if (response.status !== 200) return;
      const news = await response.json();
      root.dataset.version = news.version;
      for (const change of news.clauses) {
        const card = document.getElementById(`clause-${change.id}`);
        if (!card) continue;
        if (inUse(card)) {
          // Never overwrite what someone is typing: say what happened; saving shows both versions.
          note(card, "[data-remote-change]", `${change.by} just changed this clause. When you save, you'll see both versions and keep what you want.`);
        } else {
          htmx.ajax("GET", change.url, { target: card, swap: "outerHTML" });
        }
      }
      // The list may already show that change (brought in by "Show the latest" meanwhile).
      const shown = Number((list() && list().dataset.version) || 0);
      if (news.structure_changed && !(news.structure_version <= shown)) {
        behind = { by: news.structure_by || "Your partner", version: news.structure_version || news.version };
        if (cardsInUse().length) tellBehind();
        else await catchUp();
      }
      htmx.ajax("GET", root.dataset.pageUrl, { target: "#agreement_status", swap: "outerHTML" });
    } catch (_) {
      // Offline for a moment: the next probe tries again.
    } finally {
      busy = false;
    }
  }

  // "Show the latest": the other clauses come up to date; open forms stay as they are.
  document.addEventListener("click", (event) => {
    if (!event.target.closest("[data-show-latest]")) return;
    behind = behind || { by: "Your partner", version: Number(root.dataset.version) };
    catchUp();
  });

  // Our own add, move or drop answers with the whole list: it must not wipe a clause someone is
  // editing elsewhere on the page either. The card that sent the request is replaced (the add
  // box comes back empty, or with its errors); every other card in use stays.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (!target || target.id !== "clauses" || !event.detail.shouldSwap) return;
    const from = event.detail.requestConfig && event.detail.requestConfig.elt;
    const keep = cardsInUse().filter((card) => !(from && card.contains(from)));
    if (!keep.length) return;
    event.detail.shouldSwap = false;
    merge(event.detail.serverResponse, new Set(keep));
  });

  // A save or a cancel closed a form: catch up with what was deferred, keeping that card as it
  // came back (it says "Saved.").
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (behind && !cardsInUse().length) catchUp([event.target]);
    else if (behind) tellBehind();
  });

  // Cancel (or Edit) on a clause the partner dropped meanwhile finds it gone (404): the card goes,
  // as the list now has it, instead of staying stuck with a "couldn't save" message. Only a GET:
  // a Save still reaches the server, which keeps the words and offers them back.
  document.body.addEventListener("htmx:responseError", (event) => {
    const { xhr, target, requestConfig } = event.detail;
    if (xhr.status !== 404 || !requestConfig || requestConfig.verb !== "get") return;
    if (!target || !/^clause-\d+$/.test(target.id) || target.parentNode !== list()) return;
    event.stopPropagation();
    target.remove();
    if (behind && !cardsInUse().length) catchUp();
  });

  // A clause's "More" menu is a <details>: it opens and works without this script. With it, one
  // menu is open at a time, and Escape or a tap elsewhere closes it (focus back on its summary).
  const openMenus = () => [...document.querySelectorAll("#clauses details.item-menu[open]")];
  document.addEventListener("click", (event) => {
    for (const menu of openMenus()) {
      if (!menu.contains(event.target)) menu.open = false;
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const menu of openMenus()) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  // Our own saves move the agreement on too; the server leaves them out of the probe's answer,
  // so the version we hold only needs to follow.
  document.body.addEventListener("agreement-changed", () => { probe(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") probe(); });
  window.setInterval(probe, EVERY_MS);
})();
