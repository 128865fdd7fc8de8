// The example client's page: sign in, create the profile, then list, create, edit, delete
// items and upload an attachment, showing every failure with the message the answer carried.
//
// Stable hooks for browser tests (ids unless marked data-testid):
//   #status            every outcome; data-kind = info | success | error, data-code = the
//                      error's code (e.g. precondition_failed, NotAuthorizedException),
//                      data-http-status = its HTTP status (0: no answer)
//   #stack             which API and user pool /config.json pointed the page at
//   #origin-warning    shown when the page is not opened as http://localhost:<port>
//   sign-in            #signin, #signin-form, #username, #password, #signin-submit;
//                      first sign-in: #new-password-form, #new-password, #new-password-submit
//   session            #app (shown once signed in), #whoami, #signout
//   profile            #profile-view; #profile-form, #profile-name, #profile-email,
//                      #profile-submit (shown while the user has no profile)
//   items              #item-list of li[data-testid="item-row"][data-item-id], each with
//                      button[data-testid="item-open"]; #item-list-empty, #items-refresh,
//                      #items-more (shown while there is a next page)
//   new item           #item-create-form, #item-name, #item-description, #item-price,
//                      #item-create-submit
//   editor             #item-editor, #edit-id, #edit-etag (the ETag last read), #edit-name,
//                      #edit-description, #edit-price, #edit-save, #edit-delete, #edit-close;
//                      after a 412: #edit-conflict with #edit-reload
//   attachment         #attachment-form, #attachment-file, #attachment-upload,
//                      #attachment-result (the S3 key once uploaded)

import { ApiError, createApi, uploadToS3 } from './api.js';
import { createAuth } from './auth.js';

const $ = (id) => document.getElementById(id);

let auth;
let api;
let pendingNewPassword = null; // set while the pool asks a first sign-in for a new password
let nextCursor = null;
let editing = null; // {id, etag}: the item in the editor and the ETag of its last read

// --- status: nothing fails silently --------------------------------------------------------

function setStatus(kind, message, { code = '', httpStatus = '' } = {}) {
  const status = $('status');
  status.textContent = message;
  status.dataset.kind = kind;
  status.dataset.code = code;
  status.dataset.httpStatus = String(httpStatus);
}

function describe(error) {
  const details = error instanceof ApiError && error.details ? Object.entries(error.details) : [];
  const fields = details.map(([field, reason]) => `${field}: ${reason}`).join('; ');
  return fields ? `${error.message} (${fields})` : error.message || String(error);
}

function showError(error) {
  // ApiError: the API's or S3's answer; otherwise Cognito's (error.code) or the page's own.
  setStatus('error', describe(error), {
    code: error.code ?? '',
    httpStatus: error instanceof ApiError ? error.status : '',
  });
  if (!(error instanceof ApiError) && !error.code) console.error(error); // a fault of the page
}

// Runs one user action: its buttons disabled meanwhile, any failure shown.
async function guard(action, busy = []) {
  busy.forEach((button) => (button.disabled = true));
  try {
    await action();
  } catch (error) {
    showError(error);
  } finally {
    busy.forEach((button) => (button.disabled = false));
  }
}

function onSubmit(formId, action) {
  const form = $(formId);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guard(() => action(form), [...form.querySelectorAll('button')]);
  });
}

function onClick(buttonId, action) {
  const button = $(buttonId);
  button.addEventListener('click', () => guard(action, [button]));
}

// --- sign-in -----------------------------------------------------------------------------

function showSignIn() {
  $('app').hidden = true;
  $('signin').hidden = false;
  $('signin-form').hidden = false;
  $('new-password-form').hidden = true;
}

async function afterSignIn(result) {
  if (result.newPassword) {
    pendingNewPassword = result.newPassword;
    $('signin-form').hidden = true;
    $('new-password-form').hidden = false;
    $('new-password').focus();
    setStatus('info', 'First sign-in: choose a new password.');
    return;
  }
  await signedIn(result.session);
}

async function signedIn(session) {
  const access = session.getAccessToken().payload;
  $('whoami').textContent = access.username;
  $('signin').hidden = true;
  $('app').hidden = false;
  setStatus('success', `Signed in as ${access.username}.`);
  await guard(() => loadProfile(access.sub, session.getIdToken().payload));
  await guard(() => loadItems());
}

onSubmit('signin-form', async () => {
  setStatus('info', 'Signing in…');
  const result = await auth.signIn($('username').value.trim(), $('password').value);
  $('password').value = '';
  await afterSignIn(result);
});

onSubmit('new-password-form', async () => {
  if (!pendingNewPassword) throw new Error('Sign in with the temporary password first.');
  const result = await pendingNewPassword($('new-password').value);
  $('new-password').value = '';
  pendingNewPassword = null;
  await afterSignIn(result);
});

onClick('signout', async () => {
  auth.signOut();
  closeEditor();
  $('item-list').replaceChildren();
  $('profile-view').textContent = '';
  showSignIn();
  setStatus('info', 'Signed out.');
});

// --- profile -----------------------------------------------------------------------------

function showProfile(profile) {
  $('profile-view').textContent = `${profile.name} <${profile.email}>`;
  $('profile-form').hidden = true;
}

async function loadProfile(userId, idClaims) {
  try {
    const { data } = await api.getUser(userId);
    showProfile(data);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    $('profile-view').textContent = 'No profile yet: create it.';
    $('profile-email').value = idClaims.email ?? '';
    $('profile-form').hidden = false;
  }
}

onSubmit('profile-form', async () => {
  const { data } = await api.register({
    name: $('profile-name').value.trim(),
    email: $('profile-email').value.trim(),
  });
  showProfile(data);
  setStatus('success', 'Profile created.');
});

// --- items -------------------------------------------------------------------------------

function itemRow(item) {
  const row = document.createElement('li');
  row.dataset.testid = 'item-row';
  row.dataset.itemId = item.id;
  const label = document.createElement('span');
  const price = item.price_cents == null ? '' : ` · ${item.price_cents}¢`;
  label.textContent = `${item.name}${price}`;
  const open = document.createElement('button');
  open.type = 'button';
  open.textContent = 'Open';
  open.dataset.testid = 'item-open';
  open.setAttribute('aria-label', `Open ${item.name}`);
  open.addEventListener('click', () => guard(() => openItem(item.id), [open]));
  row.append(label, ' ', open);
  return row;
}

function rowOf(itemId) {
  return $('item-list').querySelector(`[data-item-id="${CSS.escape(itemId)}"]`);
}

function showPage(data, append) {
  const rows = data.items.map(itemRow);
  if (append) $('item-list').append(...rows);
  else $('item-list').replaceChildren(...rows);
  nextCursor = data.next_cursor;
  $('items-more').hidden = !nextCursor;
  $('item-list-empty').hidden = $('item-list').children.length > 0;
}

async function loadItems() {
  const { data } = await api.listItems(null);
  showPage(data, false);
}

onClick('items-refresh', loadItems);

onClick('items-more', async () => {
  const { data } = await api.listItems(nextCursor);
  showPage(data, true);
});

// The form as a body. An empty optional field is left out of a new item, and removed (null)
// from an existing one.
function itemFields(prefix, { existing = false } = {}) {
  const fields = { name: $(`${prefix}-name`).value.trim() };
  const description = $(`${prefix}-description`).value;
  const price = $(`${prefix}-price`).value;
  if (description !== '') fields.description = description;
  else if (existing) fields.description = null;
  if (price !== '') fields.price_cents = Number(price);
  else if (existing) fields.price_cents = null;
  return fields;
}

onSubmit('item-create-form', async (form) => {
  const { data, etag } = await api.createItem(itemFields('item'));
  form.reset();
  // Items come in creation order: the new one is last, so it shows now if the last page does.
  if (!nextCursor) {
    $('item-list').append(itemRow(data));
    $('item-list-empty').hidden = true;
  }
  openEditor(data, etag);
  setStatus('success', `Created “${data.name}”.`);
});

// --- editor: every write carries the ETag of the last read -------------------------------

function openEditor(item, etag) {
  editing = { id: item.id, etag };
  $('edit-id').textContent = item.id;
  $('edit-etag').textContent = etag;
  $('edit-name').value = item.name;
  $('edit-description').value = item.description ?? '';
  $('edit-price').value = item.price_cents ?? '';
  $('edit-conflict').hidden = true;
  $('attachment-result').textContent = '';
  $('item-editor').hidden = false;
}

function closeEditor() {
  editing = null;
  $('item-editor').hidden = true;
}

async function openItem(itemId) {
  const { data, etag } = await api.getItem(itemId);
  openEditor(data, etag);
}

// A 412 means the item changed since this page read it (another tab, say): the page shows
// the API's message and offers to read it again rather than overwrite that change.
async function withConflict(write) {
  try {
    await write();
  } catch (error) {
    if (error instanceof ApiError && error.status === 412) $('edit-conflict').hidden = false;
    throw error;
  }
}

onSubmit('item-edit-form', () =>
  withConflict(async () => {
    const changes = itemFields('edit', { existing: true });
    const { data, etag } = await api.updateItem(editing.id, changes, editing.etag);
    openEditor(data, etag);
    setStatus('success', `Saved “${data.name}” (version ${data.version}).`);
    rowOf(data.id)?.replaceWith(itemRow(data));
  }),
);

onClick('edit-delete', () =>
  withConflict(async () => {
    const { id } = editing;
    await api.deleteItem(id, editing.etag);
    closeEditor();
    rowOf(id)?.remove();
    $('item-list-empty').hidden = $('item-list').children.length > 0;
    setStatus('success', 'Item deleted.');
  }),
);

onClick('edit-reload', async () => {
  await openItem(editing.id);
  setStatus('info', `Reloaded: this is version ${editing.etag}.`);
});

onClick('edit-close', async () => closeEditor());

// --- attachment: a presigned POST from the API, then straight to S3 ------------------------

onSubmit('attachment-form', async () => {
  const file = $('attachment-file').files[0];
  $('attachment-result').textContent = '';
  const { data } = await api.attachment(editing.id, {
    filename: file.name,
    content_type: file.type || 'application/octet-stream',
    size: file.size,
  });
  setStatus('info', `Uploading ${file.name}…`);
  await uploadToS3(data, file);
  $('attachment-result').textContent = data.key;
  setStatus('success', `Uploaded ${file.name}.`);
});

// --- start ---------------------------------------------------------------------------------

async function start() {
  const response = await fetch('/config.json');
  if (!response.ok) throw new Error(`/config.json answered HTTP ${response.status}`);
  const config = await response.json();
  const { apiUrl, userPoolId, region } = config;
  $('stack').textContent = `API ${apiUrl} · user pool ${userPoolId} (${region})`;
  if (window.location.hostname !== 'localhost') {
    const wanted = `http://localhost:${window.location.port}`;
    const warning = document.createElement('p');
    warning.id = 'origin-warning';
    warning.textContent = `Open this page as ${wanted}: that is the origin the API allows.`;
    $('stack').after(warning);
  }
  auth = createAuth(config);
  api = createApi(config.apiUrl, () => auth.accessToken());
  const session = await auth.session().catch(() => null); // an expired session: sign in again
  if (session) {
    await signedIn(session);
  } else {
    showSignIn();
    setStatus('info', 'Sign in with a user of the stack’s user pool.');
  }
}

guard(start);
