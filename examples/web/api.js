// The API as docs/api.md describes it: a Bearer access token on every call, JSON bodies,
// ETag in and If-Match out, and every failure as an ApiError with the message the answer
// carried, so the page can show it as it comes.

export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.status = status; // 0: no answer at all
    this.code = code;
    this.details = details; // on 400: {field: reason}
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// The function's envelope {"error": {code, message, details}}, API Gateway's own
// {"message"}, or whatever else came back (a proxy's page, say).
function errorOf(response, text) {
  const body = parseJson(text);
  if (body?.error?.message) {
    const { code, message, details } = body.error;
    return new ApiError(response.status, code, message, details ?? null);
  }
  if (typeof body?.message === 'string') {
    return new ApiError(response.status, '', body.message);
  }
  const excerpt = text.trim().slice(0, 200);
  const message = excerpt ? `HTTP ${response.status}: ${excerpt}` : `HTTP ${response.status}`;
  return new ApiError(response.status, '', message);
}

// fetch rejects without any answer when nothing listens or CORS hides the answer.
function unreachable(url, error) {
  return new ApiError(
    0,
    'network_error',
    `No answer from ${url} (${error.message}): is the stack running, and is this page opened ` +
      `as an origin the stack allows (${window.location.origin})?`,
  );
}

export function createApi(baseUrl, accessToken) {
  async function call(method, path, { body, ifMatch, idempotencyKey } = {}) {
    const headers = { Authorization: `Bearer ${await accessToken()}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (ifMatch) headers['If-Match'] = ifMatch;
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
    const url = `${baseUrl}${path}`;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw unreachable(url, error);
    }
    const text = await response.text();
    if (!response.ok) throw errorOf(response, text);
    // The CORS answer exposes ETag, so the browser may read it.
    return { status: response.status, data: parseJson(text), etag: response.headers.get('ETag') };
  }

  const id = (value) => encodeURIComponent(value);
  return {
    getUser: (userId) => call('GET', `/users/${id(userId)}`),
    register: (profile) => call('POST', '/users', { body: profile }),
    listItems: (cursor) =>
      call('GET', `/items?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    // A new Idempotency-Key per new item: a retried request cannot make a second one.
    createItem: (item) =>
      call('POST', '/items', { body: item, idempotencyKey: crypto.randomUUID() }),
    getItem: (itemId) => call('GET', `/items/${id(itemId)}`),
    updateItem: (itemId, changes, etag) =>
      call('PATCH', `/items/${id(itemId)}`, { body: changes, ifMatch: etag }),
    deleteItem: (itemId, etag) => call('DELETE', `/items/${id(itemId)}`, { ifMatch: etag }),
    attachment: (itemId, file) =>
      call('POST', `/items/${id(itemId)}/attachments`, { body: file }),
  };
}

// A presigned POST straight to S3: the policy's fields first, then the file, which S3 wants
// last. S3 answers 204, or an XML <Error> with its Code and Message.
export async function uploadToS3({ url, fields }, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', file);
  let response;
  try {
    response = await fetch(url, { method: 'POST', body: form });
  } catch (error) {
    throw unreachable(url, error);
  }
  if (response.ok) return;
  const text = await response.text();
  const xml = new DOMParser().parseFromString(text, 'application/xml');
  const code = xml.querySelector('Error > Code')?.textContent ?? '';
  const message = xml.querySelector('Error > Message')?.textContent;
  throw new ApiError(response.status, code, message || `S3 answered HTTP ${response.status}`);
}
