// The access audit (/audit, admins): GET /api/v1/audit (docs/api.md, "Privacy"), newest
// first, filtered by user, action and number; "Older entries" pages back.
import { api, ApiError } from './api.js';
import { el, fullTime } from './dom.js';

const $ = (id) => document.getElementById(id);
const actionText = {
  open_conversation: 'Opened a conversation',
  open_patron: "Opened a patron's record",
  export_patron: "Exported a patron's data",
  erase_patron: 'Erased a patron',
  link_patron: "Linked a patron's records",
  unlink_patron: "Unlinked a patron's records",
};
let before = '';

function showProblem(text) {
  $('audit-error').textContent = text;
  $('audit-error').hidden = !text;
}

async function show({ more = false } = {}) {
  const query = {
    user: $('audit-user').value.trim(), action: $('audit-action').value, target: $('audit-target').value.trim(),
  };
  if (more && before) query.before = before;
  for (const k of Object.keys(query)) if (!query[k]) delete query[k];
  try {
    const page = await api.audit(query);
    showProblem('');
    const rows = page.items.map((e) => el('tr', { 'data-testid': 'audit-row', 'data-action': e.action }, [
      el('td', {}, [el('time', { datetime: e.at, text: fullTime(e.at) })]),
      el('td', { text: e.user }),
      el('td', { text: actionText[e.action] || e.action }),
      el('td', { text: e.target }),
      el('td', { text: e.address }),
    ]));
    if (more) $('audit-rows').append(...rows);
    else $('audit-rows').replaceChildren(...rows);
    $('audit-empty').hidden = $('audit-rows').children.length > 0;
    before = page.next_before || '';
    $('audit-older').hidden = !before;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) location.assign('/');
    else showProblem(e.message);
  }
}

$('audit-filters').addEventListener('submit', (e) => {
  e.preventDefault();
  show();
});
$('audit-older').addEventListener('click', () => show({ more: true }));

api.me().then(() => show(), (e) => {
  if (e.status === 401) location.assign('/');
  else showProblem(e.message);
});
