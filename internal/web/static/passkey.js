// passkey.js runs the WebAuthn ceremonies of the passkey pages: adding a
// passkey on /account/passkeys, signing in with one on /signin (a button,
// and the browser's autofill where it offers conditional mediation), and
// a passkey as the second factor. The server sends the options and an
// opaque state; this script hands them to navigator.credentials and posts
// the browser's answer back with the state, as JSON. The passkey
// controls ([data-passkey]) start hidden and are shown here only where
// the browser has WebAuthn; elsewhere [data-passkey-missing] says so.
"use strict";
(function () {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    document.querySelectorAll("[data-passkey-missing]").forEach(function (el) {
      el.hidden = false;
    });
    return;
  }
  document.querySelectorAll("[data-passkey]").forEach(function (el) {
    el.hidden = false;
  });

  function fromB64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toB64(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeDescriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, { id: fromB64(d.id) });
    });
  }

  // creationOptions and requestOptions turn the server's JSON options
  // into what navigator.credentials takes.
  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64(pk.user.id) });
    pk.excludeCredentials = decodeDescriptors(pk.excludeCredentials);
    return pk;
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64(pk.challenge);
    pk.allowCredentials = decodeDescriptors(pk.allowCredentials);
    return pk;
  }

  // credentialJSON is the PublicKeyCredential as the server parses it.
  function credentialJSON(c) {
    var r = c.response;
    var out = {
      id: c.id,
      rawId: toB64(c.rawId),
      type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      if (r.userHandle) {
        out.response.userHandle = toB64(r.userHandle);
      }
    }
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (resp) {
      return resp.json().catch(function () {
        return {};
      }).then(function (j) {
        if (!resp.ok) {
          throw new Error(j.error || "The server refused the request (" + resp.status + ").");
        }
        return j;
      });
    });
  }

  function show(el, text) {
    var box = document.getElementById(el.getAttribute("data-passkey-status"));
    if (box) {
      box.textContent = text;
      box.hidden = !text;
    }
  }

  function failed(el, err) {
    if (err && err.name === "AbortError") {
      return;
    }
    if (err && err.name === "NotAllowedError") {
      show(el, "The passkey request was cancelled or timed out.");
      return;
    }
    if (err && err.name === "InvalidStateError") {
      show(el, "This authenticator already holds a passkey for your account.");
      return;
    }
    show(el, (err && err.message) || "The passkey did not work.");
  }

  // Adding a passkey: <form data-passkey="register" data-options=URL action=URL>.
  document.querySelectorAll("form[data-passkey=register]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      show(form, "");
      var name = form.elements.name ? form.elements.name.value : "";
      post(form.getAttribute("data-options")).then(function (begun) {
        return navigator.credentials.create({ publicKey: creationOptions(begun.options) }).then(function (cred) {
          return post(form.action, {
            state: begun.state,
            name: name,
            credential: credentialJSON(cred),
            next: form.getAttribute("data-next") || undefined
          });
        });
      }).then(function (done) {
        window.location.assign(done.redirect || window.location.pathname);
      }).catch(function (err) {
        failed(form, err);
      });
    });
  });

  // Signing in: <button data-passkey="signin" data-options=URL data-finish=URL>.
  // A pending conditional request (autofill) is aborted first: a page may
  // run one WebAuthn request at a time.
  var pending = null;

  function signIn(el, mediation) {
    if (pending) {
      pending.abort();
    }
    var ctrl = new AbortController();
    pending = ctrl;
    var picked = false;
    return post(el.getAttribute("data-options")).then(function (begun) {
      var req = { publicKey: requestOptions(begun.options), signal: ctrl.signal };
      if (mediation) {
        req.mediation = mediation;
      }
      return navigator.credentials.get(req).then(function (cred) {
        picked = true;
        return post(el.getAttribute("data-finish"), {
          state: begun.state,
          credential: credentialJSON(cred),
          next: el.getAttribute("data-next") || undefined
        });
      });
    }).then(function (done) {
      window.location.assign(done.redirect || "/");
    }).catch(function (err) {
      if (mediation && !picked) {
        autofillOff(el, err);
        return;
      }
      failed(el, err);
    });
  }

  // autofillOff records why the autofill request ended before the person
  // picked a passkey. The request runs without being asked for, so its
  // failure is no error of theirs and is not shown: a page opened at an
  // address passkeys cannot use (an IP address, another host than
  // tokend's public URL) rejects it at once ("This is an invalid
  // domain"). The button still reports its own failures.
  function autofillOff(el, err) {
    el.setAttribute("data-conditional", "off");
    if (window.console && err && err.name !== "AbortError") {
      window.console.info("passkey autofill is off: " + (err.message || err.name));
    }
  }

  document.querySelectorAll("button[data-passkey=signin]").forEach(function (btn) {
    btn.addEventListener("click", function (ev) {
      ev.preventDefault();
      show(btn, "");
      signIn(btn);
    });
    // Conditional UI: offer the passkeys in the username field's
    // autofill (autocomplete="username webauthn") where the browser can.
    if (btn.hasAttribute("data-conditional") && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (ok) {
          signIn(btn, "conditional");
        }
      });
    }
  });
})();
