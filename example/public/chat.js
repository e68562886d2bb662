// The chat page: one WebSocket, authenticated by the session cookie (default)
// or by a token in Sec-WebSocket-Protocol (?mode=token).
const mode = new URLSearchParams(location.search).get('mode') === 'token' ? 'token' : 'cookie';
const chatUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/chat`;
const element = (id) => document.getElementById(id);

let socket;
let opened = false;
let me;
let online = [];
let token;
let refreshTimer;

function status(text, kind = 'info') {
  element('status').textContent = text;
  element('status').className = kind;
}

function show(text, kind = 'message') {
  const line = document.createElement('li');
  line.textContent = text;
  line.className = kind;
  element('messages').append(line);
  line.scrollIntoView({ block: 'nearest' });
}

function connect(protocols) {
  opened = false;
  socket = new WebSocket(chatUrl, protocols);
  socket.onopen = () => {
    opened = true;
    const how = mode === 'token' ? 'token in Sec-WebSocket-Protocol' : 'session cookie';
    status(`Connected (${how}; subprotocol "${socket.protocol}")`, 'ok');
    element('composer').hidden = false;
    socket.send(JSON.stringify({ event: 'whoami' }));
  };
  socket.onmessage = (message) => handle(JSON.parse(message.data));
  socket.onclose = (event) => closed(event.code, event.reason);
}

function handle({ event, data }) {
  switch (event) {
    case 'whoami':
      me = data;
      element('me').textContent = data.name + (data.roles.includes('admin') ? ' (admin)' : '');
      renderOnline();
      break;
    case 'message':
      show(`${data.from}: ${data.text}`);
      break;
    case 'joined':
      show(`${data.name} joined`, 'system');
      break;
    case 'online':
      online = data;
      renderOnline();
      break;
    case 'revoked':
      show(`Revoked ${data.id}: ${data.closed} connection(s) closed`, 'system');
      break;
    case 'auth:refreshed':
      show('Token refreshed in-band', 'system');
      scheduleRefresh(data.exp);
      break;
    case 'exception':
      show(`The server refused that: ${data.message}`, 'error');
      break;
  }
}

function renderOnline() {
  const list = element('online');
  list.replaceChildren(
    ...online.map((user) => {
      const item = document.createElement('li');
      item.textContent = user.name;
      if (me?.roles.includes('admin') && user.id !== me.id) {
        const revoke = document.createElement('button');
        revoke.textContent = 'Revoke';
        revoke.onclick = () => socket.send(JSON.stringify({ event: 'revoke', data: user.id }));
        item.append(revoke);
      }
      return item;
    }),
  );
}

/** The close codes of nest-ws-auth (README), in words. */
function closed(code, reason) {
  clearTimeout(refreshTimer);
  element('composer').hidden = true;
  if (!opened) {
    explainRefusal();
    return;
  }
  let why;
  if (reason === 'logged out') why = 'you logged out.';
  else if (code === 4401) why = `your ${mode === 'token' ? 'token' : 'credentials'} expired or were refused (${reason}).`;
  else if (code === 4403) why = `your access was withdrawn (${reason}).`;
  else why = `the connection closed (${code}${reason ? `, ${reason}` : ''}).`;
  status(`Disconnected: ${why}`, 'error');
}

/** A browser sees no HTTP status of a refused handshake, only 1006: ask the web app why. */
async function explainRefusal() {
  if (mode === 'cookie' && (await fetch('/api/me')).status === 401) {
    status('Not connected: you are not logged in, so the server refused the WebSocket (401). Log in first.', 'error');
    element('login-link').hidden = false;
    return;
  }
  status('Not connected: the server refused the WebSocket (an invalid token, or a page from another origin).', 'error');
}

/** Asks the web app for a new token before this one expires, and hands it to the open socket. */
function scheduleRefresh(exp) {
  clearTimeout(refreshTimer);
  const lead = Math.min(20, (exp - Date.now() / 1000) / 2);
  refreshTimer = setTimeout(async () => {
    const response = await fetch('/api/token/refresh', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    if (response.ok) {
      ({ token } = await response.json());
      socket.send(JSON.stringify({ event: 'auth:refresh', data: { token } }));
    }
  }, Math.max(0, (exp - lead) * 1000 - Date.now()));
}

element('composer').onsubmit = (event) => {
  event.preventDefault();
  const text = element('text').value;
  if (text.trim()) socket.send(JSON.stringify({ event: 'say', data: text }));
  element('text').value = '';
};

element('logout').onclick = () => fetch('/logout', { method: 'POST' });

if (mode === 'token') {
  element('mode').textContent = '(token client)';
  element('token-login').hidden = false;
  status('Log in to get a token.');
  element('token-login').onsubmit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const response = await fetch('/api/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: form.get('id'), password: form.get('password') }),
    });
    if (!response.ok) {
      status('Wrong user or password.', 'error');
      return;
    }
    const issued = await response.json();
    token = issued.token;
    element('token-login').hidden = true;
    // An app protocol beside the token: the server selects it and never echoes the token.
    connect(['chat', `bearer.${token}`]);
    scheduleRefresh(issued.exp);
  };
} else {
  element('mode').textContent = '(session cookie)';
  element('logout').hidden = false;
  connect(['chat']);
}
