// The login page: POST /login with the user and password as JSON; on success the
// console sets the HttpOnly session cookie and the app opens.
'use strict';

document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const error = document.getElementById('login-error');
  const button = document.getElementById('login-button');
  error.textContent = '';
  button.disabled = true;
  try {
    const res = await fetch('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        user: document.getElementById('user').value,
        password: document.getElementById('password').value,
      }),
      credentials: 'same-origin',
    });
    if (res.ok) {
      location.assign('/');
      return;
    }
    const body = await res.json().catch(() => ({}));
    error.textContent = body.error || ('login failed (HTTP ' + res.status + ')');
  } catch (e) {
    error.textContent = 'the console did not answer: ' + e.message;
  } finally {
    button.disabled = false;
  }
});
