// The sessions page: every session a headset keeps verified shows its running confidence, asked
// from the server every two seconds; once the session has ended, the page says so (and drops its
// sign-out button).
(function () {
  'use strict';
  var items = document.querySelectorAll('[data-continuous-url]');
  Array.prototype.forEach.call(items, function (item) {
    var url = item.getAttribute('data-continuous-url');
    function field(name) { return item.querySelector('[data-field="' + name + '"]'); }
    function poll() {
      fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (res) { return res.ok ? res.json() : { state: 'unknown' }; })
        .then(function (claim) {
          if (claim.state === 'ended') {
            item.textContent = 'This session has ended: the headset no longer confirmed it was you, or it went silent.';
            // Nothing is left to sign out.
            var session = item.closest('li');
            var signOut = session && session.querySelector('form[action$="/revoke"]');
            if (signOut) signOut.remove();
            return;
          }
          if (claim.state === 'waiting' || claim.state === 'streaming') {
            field('confidence').textContent = claim.confidence;
            field('floor').textContent = claim.floor;
            field('windows').textContent = claim.windows;
          }
          setTimeout(poll, 2000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 2000);
  });
})();
