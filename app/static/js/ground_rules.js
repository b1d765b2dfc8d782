// Live ground rules: while the page is visible, ask every few seconds whether the partner changed
// anything (a 204 when not), and bring their changes in without touching a clause being edited.
(() => {
  "use strict";
  const root = document.querySelector("[data-ground-rules]");
  if (!root || !window.htmx) return;

  const EVERY_MS = 5000;
  const notice = document.getElementById("remote_notice");
  let busy = false;

  const editing = (element) => element && element.querySelector("form[data-editing]");

  function tell(message) {
    if (!notice) return;
    notice.querySelector("[data-remote-message]").textContent = message;
    notice.hidden = false;
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
      });
      if (response.status !== 200) return;
      const news = await response.json();
      root.dataset.version = news.version;
      for (const change of news.clauses) {
        const element = document.getElementById(`clause-${change.id}`);
        if (!element) continue;
        if (editing(element)) {
          // Never overwrite what someone is typing: say what happened; saving shows both versions.
          const note = element.querySelector("[data-remote-change]");
          note.textContent = `${change.by} just changed this clause. When you save, you'll see both versions and keep what you want.`;
          note.hidden = false;
        } else {
          htmx.ajax("GET", change.url, { target: element, swap: "outerHTML" });
        }
      }
      if (news.structure_changed) {
        const list = document.getElementById("clauses");
        if (editing(list)) {
          tell("Your partner added, moved or dropped a clause.");
        } else {
          htmx.ajax("GET", root.dataset.pageUrl, { target: "#clauses", swap: "outerHTML" });
        }
      }
      htmx.ajax("GET", root.dataset.pageUrl, { target: "#agreement_status", swap: "outerHTML" });
    } catch (_) {
      // Offline for a moment: the next probe tries again.
    } finally {
      busy = false;
    }
  }

  // Our own saves move the agreement on too; the server leaves them out of the probe's answer,
  // so the version we hold only needs to follow.
  document.body.addEventListener("agreement-changed", () => { probe(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") probe(); });
  window.setInterval(probe, EVERY_MS);
})();
