// set-password.js moves the token of a set-password link from the URL
// fragment (/set-password#tksp_…), which no server or log ever sees,
// into the form, then removes it from the address bar and the history.
// Without JavaScript the page asks the person to paste the token.
"use strict";
(function () {
  var hash = window.location.hash.slice(1);
  if (hash.indexOf("tksp_") !== 0) {
    return;
  }
  var input = document.getElementById("token");
  var field = document.getElementById("token-field");
  if (!input || !field) {
    return;
  }
  input.value = hash;
  field.hidden = true;
  window.history.replaceState(null, "", window.location.pathname);
})();
