// Face capture page: camera preview, a burst of frames while the user follows the instruction,
// upload as multipart via fetch (Accept: application/json), then on to the next page.
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
  // A couple more than the minimum, so one frame lost to motion blur does not fail the attempt.
  const frames = Math.min(Number(form.dataset.minFrames) + 2, Number(form.dataset.maxFrames));
  const FRAME_GAP_MS = 300;
  const HOLD_MS = 1200;
  let stream = null;
  let busy = false;
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
    const shots = [];
    say('Look straight at the camera…');
    setProgress(0);
    await sleep(HOLD_MS);
    shots.push(await grab());
    say(instruction.textContent.trim());
    for (let i = 1; i < frames; i++) {
      await sleep(FRAME_GAP_MS);
      shots.push(await grab());
      setProgress(Math.round((50 * shots.length) / frames));
    }
    return shots;
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
    return true;
  }

  async function upload(shots) {
    const body = new FormData();
    body.append('csrf', form.elements.csrf.value);
    body.append('challenge', form.elements.challenge.value);
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
    // Files chosen by hand go as a normal form submission.
    if (!stream && form.elements.frame && form.elements.frame.files.length > 0) return;
    event.preventDefault();
    if (!busy) attempt();
  });
})();
