// Face capture page: camera preview, a burst of frames while the user makes the challenge's
// movements one after the other, each frame with its capture time (ms since the challenge was
// shown), upload as multipart via fetch (Accept: application/json), then on to the next page.
(() => {
  'use strict';
  const form = document.getElementById('face-form');
  if (!form || !navigator.mediaDevices || !window.fetch) return; // the file input still works without script

  const video = document.getElementById('preview');
  const camera = document.getElementById('camera');
  const status = document.getElementById('face-status');
  const progress = document.getElementById('face-progress');
  const errorBox = document.getElementById('face-error');
  const button = document.getElementById('face-start');
  const instruction = document.getElementById('instruction');
  const fallback = document.getElementById('file-fallback');
  // A frame facing the camera, then for each movement one on the way and one there (more for a
  // single movement, to reach the burst's minimum), and one back at the centre between movements.
  const MOVE_GAP_MS = 500;
  const RETURN_MS = 900;
  const HOLD_MS = 1200;
  const minFrames = Number(form.dataset.minFrames);
  let stream = null;
  let busy = false;
  // When this challenge was shown: the server checks the frames' times against its issue time.
  let shownAt = performance.now();
  button.textContent = 'Start the camera';

  const say = (text) => { status.textContent = text; };
  const showError = (text) => { errorBox.textContent = text; errorBox.hidden = !text; };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const setProgress = (value) => { progress.hidden = false; progress.value = value; };

  async function startCamera() {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }, audio: false });
    video.srcObject = stream;
    camera.hidden = false;
    fallback.hidden = true;
    await video.play();
    button.textContent = 'Capture';
    say('Camera on. Look straight at the camera, then press “Capture” and follow the instruction.');
  }

  function grab() {
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('capture failed'))), 'image/jpeg', 0.92));
  }

  async function captureBurst() {
    const moves = [...instruction.querySelectorAll('.move')].map((m) => m.textContent.trim());
    const perMove = Math.max(2, Math.ceil((minFrames - moves.length) / moves.length));
    const total = 1 + moves.length * perMove + moves.length - 1;
    const shots = [];
    const times = [];
    const take = async () => {
      times.push(Math.round(performance.now() - shownAt));
      shots.push(await grab());
      setProgress(Math.round((50 * shots.length) / total));
    };
    say('Look straight at the camera…');
    setProgress(0);
    await sleep(HOLD_MS);
    await take();
    for (const [i, move] of moves.entries()) {
      if (i > 0) {
        say('Back to the centre: look straight at the camera.');
        await sleep(RETURN_MS);
        await take();
      }
      say(`${moves.length > 1 ? `${i + 1} of ${moves.length}: ` : ''}${move.charAt(0).toUpperCase()}${move.slice(1)}.`);
      for (let k = 0; k < perMove; k++) {
        await sleep(MOVE_GAP_MS);
        await take();
      }
    }
    return { shots, times };
  }

  // A refused attempt used up its instruction: fetch the page (sign-in or console set-up) again for a fresh one.
  async function refreshChallenge() {
    const res = await fetch(form.dataset.page, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
    const page = new DOMParser().parseFromString(await res.text(), 'text/html');
    const fresh = page.querySelector('#face-form input[name=challenge]');
    const text = page.getElementById('instruction');
    if (!fresh || !text) return false;
    form.elements.challenge.value = fresh.value;
    instruction.dataset.challenge = text.dataset.challenge;
    instruction.innerHTML = text.innerHTML;
    shownAt = performance.now();
    return true;
  }

  async function upload({ shots, times }) {
    const body = new FormData();
    body.append('csrf', form.elements.csrf.value);
    body.append('challenge', form.elements.challenge.value);
    body.append('frameTimes', times.join(','));
    shots.forEach((shot, i) => body.append('frame', shot, `frame-${i + 1}.jpg`));
    say('Sending the pictures…');
    setProgress(60);
    const res = await fetch(form.action, { method: 'POST', body, headers: { accept: 'application/json' }, credentials: 'same-origin' });
    setProgress(90);
    let outcome;
    try {
      outcome = await res.json();
    } catch {
      outcome = { ok: false, message: `The server answered ${res.status}. Please try again.` };
    }
    return outcome;
  }

  async function attempt() {
    busy = true;
    button.disabled = true;
    showError('');
    try {
      if (!stream) {
        await startCamera();
        return;
      }
      const outcome = await upload(await captureBurst());
      if (outcome.ok) {
        setProgress(100);
        say('Done. Continuing…');
        window.location.assign(outcome.next);
        return;
      }
      progress.hidden = true;
      showError(outcome.message || 'That did not work. Please try again.');
      if (outcome.status === 429 || !(await refreshChallenge())) {
        say('Reload the page to try again.');
        return;
      }
      say('Try again: look straight at the camera, press “Capture” and follow the new instruction.');
    } catch (err) {
      progress.hidden = true;
      const denied = err && (err.name === 'NotAllowedError' || err.name === 'NotFoundError');
      showError(denied ? 'We cannot use your camera. Allow camera access, or choose pictures with the file button instead.' : 'The pictures could not be sent. Check your connection and try again.');
      if (denied) fallback.hidden = false;
    } finally {
      busy = false;
      button.disabled = false;
    }
  }

  form.addEventListener('submit', (event) => {
    // Files chosen by hand go as a normal form submission, timed by when they were taken.
    if (!stream && form.elements.frame && form.elements.frame.files.length > 0) {
      const shownEpoch = performance.timeOrigin + shownAt;
      form.elements.frameTimes.value = [...form.elements.frame.files].map((f) => Math.round(f.lastModified - shownEpoch)).join(',');
      return;
    }
    event.preventDefault();
    if (!busy) attempt();
  });
})();
