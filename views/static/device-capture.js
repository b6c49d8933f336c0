// Device capture: while a headset app (or `tessera neural send`) delivers a recording with the
// code shown on this page, ask the server every two seconds; once it has arrived, submit the
// form, which hands the delivered recording to the step. Choosing a file stops the wait.
(function () {
  'use strict';
  var status = document.getElementById('capture-status');
  var form = document.getElementById('capture-form');
  var file = document.getElementById('recording');
  if (!status || !form) return;
  var url = status.getAttribute('data-status-url');
  var stopped = false;
  if (file) file.addEventListener('change', function () { stopped = true; status.textContent = 'Using the chosen file instead.'; });

  function poll() {
    if (stopped) return;
    fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) { return res.ok ? res.json() : { status: 'error' }; })
      .then(function (body) {
        if (stopped) return;
        if (body.status === 'received') {
          stopped = true;
          status.textContent = 'Recording received. Checking it…';
          form.submit();
        } else if (body.status === 'expired') {
          stopped = true;
          status.textContent = 'The code has expired or was used. Reload the page for a new one.';
        } else {
          setTimeout(poll, 2000);
        }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
