// The device's outbox: writes typed while offline (a topic, a tick, meeting notes, a reflection),
// kept in IndexedDB until they can be sent. Used by the pages (offline.js) and by the service
// worker (sw.js, for Background Sync), so both send them the same way.
//
// Each entry belongs to the person who typed it (its ``owner``, a user id) and carries an
// idempotency key: sending it twice (the answer was lost, or a page and the service worker both
// tried) makes one thing. It is sent under the session the browser holds at that moment, with a
// CSRF token fetched fresh for it, and dropped, never sent, when that session is someone else's.
(() => {
  "use strict";

  const DATABASE = "twoway-offline";
  const OUTBOX = "outbox";
  const META = "meta";
  const SESSION_URL = "/outbox/session";
  // Said by app/authz.py: the write was refused because it was typed by someone else.
  const REFUSED = "Twoway-Replay-Refused";

  let opened = null;
  const open = () => {
    opened = opened || new Promise((resolve, reject) => {
      const request = indexedDB.open(DATABASE, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(OUTBOX, { keyPath: "id", autoIncrement: true });
        request.result.createObjectStore(META);
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => {
        opened = null;
        reject(request.error);
      };
    });
    return opened;
  };
  const answer = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const finished = (transaction) => new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
  const write = async (stores, work) => {
    const transaction = (await open()).transaction(stores, "readwrite");
    work(transaction);
    await finished(transaction);
  };

  const entries = async () => answer((await open()).transaction(OUTBOX).objectStore(OUTBOX).getAll());
  const put = (entry) => write(OUTBOX, (t) => t.objectStore(OUTBOX).put(entry));
  const remove = (id) => write(OUTBOX, (t) => t.objectStore(OUTBOX).delete(id));
  const clear = () => write([OUTBOX, META], (t) => {
    t.objectStore(OUTBOX).clear();
    t.objectStore(META).clear();
  });

  /** Keep ``entry`` (its state "waiting") and return its id. One that ``replaces`` an earlier waiting entry (the
   * same action item ticked again) takes its place: the last state asked for is what is sent. */
  const add = async (entry) => {
    const earlier = entry.replaces
      ? (await entries()).filter((old) => old.replaces === entry.replaces && old.state === "waiting")
      : [];
    let added = null;
    await write(OUTBOX, (t) => {
      const store = t.objectStore(OUTBOX);
      for (const old of earlier) store.delete(old.id);
      added = store.add({ ...entry, state: "waiting", created: Date.now() });
    });
    return added.result;
  };

  /** The page says whose session it was drawn for (``user``, and the session ``generation``, which
   * moves on at every sign-out on any device). Everything kept for another person, or from before
   * a sign-out, is cleared. Returns true when something had to go. A page drawn earlier (an older
   * generation) changes nothing. */
  const settle = async (user, generation) => {
    const owner = await answer((await open()).transaction(META).objectStore(META).get("owner"));
    const stale = Boolean(owner) && (owner.user !== user || generation > owner.generation);
    const held = await entries();
    const foreign = held.some((entry) => entry.owner !== user);
    if (stale || foreign) await clear();
    if (!owner || stale || foreign || generation > owner.generation) {
      await write(META, (t) => t.objectStore(META).put({ user, generation }, "owner"));
    }
    return stale || foreign;
  };

  // One sender at a time on this device (a page and the service worker may both try).
  const oneAtATime = (work) => (self.navigator && navigator.locks
    ? navigator.locks.request("twoway-outbox", work)
    : work());

  /** Send what waits, oldest first, through ``send`` (``fetch``). Resolves to what happened:
   * ``sent`` and ``needsYou`` (entries), ``dropped`` (a count) and ``stopped`` ("offline",
   * "signed-out", "error" or null when everything was tried). */
  const replay = (send) => oneAtATime(async () => {
    const result = { sent: [], needsYou: [], dropped: 0, stopped: null };
    const waiting = (await entries()).filter((entry) => entry.state === "waiting").sort((a, b) => a.id - b.id);
    if (!waiting.length) return result;
    let session;
    try {
      const response = await send(SESSION_URL, { credentials: "same-origin", cache: "no-store" });
      session = await response.json();
    } catch (_error) {
      result.stopped = "offline";
      return result;
    }
    if (!session.user) {
      // Kept until its owner signs in again here (or cleared when someone else does).
      result.stopped = "signed-out";
      return result;
    }
    for (const entry of waiting) {
      if (entry.owner !== session.user) {
        await remove(entry.id);
        result.dropped += 1;
        continue;
      }
      const body = new URLSearchParams(entry.fields);
      body.set("csrf_token", session.csrf);
      let response;
      try {
        response = await send(entry.url, {
          method: "POST",
          credentials: "same-origin",
          cache: "no-store",
          // As htmx sends it: an expired session answers 401 rather than the sign-in page.
          headers: { "HX-Request": "true", "X-CSRFToken": session.csrf, "Twoway-Replay-For": String(entry.owner) },
          body,
        });
      } catch (_error) {
        result.stopped = "offline";
        break;
      }
      if (response.ok) {
        await remove(entry.id);
        result.sent.push(entry);
      } else if (response.status === 401) {
        result.stopped = "signed-out";
        break;
      } else if (response.status === 403 && response.headers.get(REFUSED)) {
        await remove(entry.id);
        result.dropped += 1;
      } else if ([403, 404, 409, 410, 413, 422].includes(response.status)) {
        // Someone saved it meanwhile, the thing is gone, or it isn't valid (or more than Twoway
        // takes at once: sent again, it would keep back everything after it): the person decides.
        const held = { ...entry, state: "needs-you", status: response.status };
        await put(held);
        result.needsYou.push(held);
      } else {
        // A stale CSRF token, too many tries, the server down: try again later.
        result.stopped = "error";
        break;
      }
    }
    return result;
  });

  self.TwowayOutbox = { SYNC_TAG: "twoway-outbox", add, entries, put, remove, clear, settle, replay };
})();
