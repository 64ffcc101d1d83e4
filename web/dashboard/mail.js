// What the transcript shows of an email (pure functions, tested without a browser): the
// reply's own words first, the quoted history and signature folded away (the connector says
// from which line: facts.fold_line), and sizes of attachments people can read.

// { shown, folded }: `folded` is '' when nothing is folded.
export function foldText(text, facts) {
  const line = Number.parseInt(facts && facts.fold_line, 10);
  const lines = String(text).split('\n');
  if (!Number.isInteger(line) || line <= 0 || line >= lines.length) return { shown: text, folded: '' };
  return { shown: lines.slice(0, line).join('\n'), folded: lines.slice(line).join('\n').replace(/^\n+/, '') };
}

// 1536 -> "1.5 KB"; '' when unknown.
export function fileSize(bytes) {
  if (typeof bytes !== 'number' || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

// "In-Reply-To <askdesk.7.21…@library.org>" -> why a message joined its conversation.
export function joinedBy(text) {
  if (!text) return '';
  return `Joined this conversation by its ${text}`;
}
