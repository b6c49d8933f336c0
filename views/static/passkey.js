// Passkey pages: the form carries the server's WebAuthn options (data-options); pressing the
// button runs the ceremony (create: a new passkey; get: sign in) with @simplewebauthn/browser,
// puts the browser's response in the form and posts it like any other form.
(() => {
  'use strict';
  const form = document.getElementById('passkey-form');
  const webauthn = window.SimpleWebAuthnBrowser;
  if (!form) return;
  const errorBox = document.getElementById('passkey-error');
  const button = document.getElementById('passkey-start');
  const showError = (text) => { errorBox.textContent = text; errorBox.hidden = !text; };
  if (!webauthn || !webauthn.browserSupportsWebAuthn()) {
    button.disabled = true;
    showError('This browser cannot use passkeys. Use another sign-in method or another browser.');
    return;
  }
  const optionsJSON = JSON.parse(form.dataset.options);
  let busy = false;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    button.disabled = true;
    showError('');
    try {
      const response = form.dataset.ceremony === 'create' ? await webauthn.startRegistration({ optionsJSON }) : await webauthn.startAuthentication({ optionsJSON });
      form.elements.response.value = JSON.stringify(response);
      form.submit();
    } catch (error) {
      // Cancelled, timed out, or no matching passkey: the page stays, the same challenge can be tried again.
      showError(error && error.name === 'NotAllowedError' ? 'The passkey request was cancelled or timed out. Try again.' : `The passkey could not be used: ${error && error.message ? error.message : error}`);
      busy = false;
      button.disabled = false;
    }
  });
})();
