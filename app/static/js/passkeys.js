// Passkey ceremonies with the browser's own WebAuthn JSON helpers: no library.
(() => {
  "use strict";

  const supported = Boolean(
    window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function"
  );

  const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

  // The token this page was drawn with no longer matches the browser's session cookie (a request
  // still in flight when the person signed out put an older cookie back): read a fresh one from
  // this page drawn again, which also sets the cookie it belongs to.
  async function freshToken() {
    const page = await fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
    const meta = new DOMParser().parseFromString(await page.text(), "text/html").querySelector('meta[name="csrf-token"]');
    if (meta) document.querySelector('meta[name="csrf-token"]').content = meta.content;
  }

  async function post(url, body, retried) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? "{}" : JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (_) { /* an error page, not JSON */ }
    if (response.status === 400 && data.stale_token && !retried) {
      await freshToken();
      return post(url, body, true);
    }
    if (!response.ok) throw new Error(data.error || "Twoway couldn't finish that. Please try again.");
    return data;
  }

  function explain(error) {
    switch (error.name) {
      case "AbortError": return "";
      case "NotAllowedError": return "Cancelled, or it took too long. Try again when you're ready.";
      case "InvalidStateError": return "This device already has a passkey for Twoway.";
      case "SecurityError": return "Passkeys can't be used on this address.";
      default: return error.message;
    }
  }

  async function register(box) {
    const options = await post(box.dataset.optionsUrl);
    const credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
    });
    return post(box.dataset.verifyUrl, credential.toJSON());
  }

  async function signIn(box, mediation, signal) {
    const options = await post(box.dataset.optionsUrl);
    const credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
      mediation,
      signal,
    });
    return post(box.dataset.verifyUrl, credential.toJSON());
  }

  for (const box of document.querySelectorAll("[data-passkey]")) {
    const button = box.querySelector("[data-passkey-start]");
    const status = box.querySelector("[data-passkey-status]");
    if (!supported) {
      button.hidden = true;
      box.querySelector("[data-passkey-unsupported]").hidden = false;
      continue;
    }
    const isSignIn = box.dataset.passkey === "sign-in";
    let autofill = null;

    const finish = (result) => { window.location.assign(result.redirect); };
    const fail = (error) => {
      status.textContent = explain(error);
      button.disabled = false;
    };

    button.addEventListener("click", () => {
      if (autofill) autofill.abort(new DOMException("Replaced by the button", "AbortError"));
      button.disabled = true;
      status.textContent = isSignIn ? "Waiting for your passkey…" : "Follow your device's prompt…";
      (isSignIn ? signIn(box, "optional") : register(box)).then(finish, fail);
    });

    // Passkey autofill: the email field offers saved passkeys as the person starts typing.
    const field = document.querySelector('input[autocomplete~="webauthn"]');
    if (isSignIn && field && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
        if (!available) return;
        autofill = new AbortController();
        signIn(box, "conditional", autofill.signal).then(finish, (error) => {
          if (error.name !== "AbortError") status.textContent = explain(error);
        });
      });
    }
  }
})();
