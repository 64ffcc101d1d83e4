// How many SMS segments a text takes, before it is sent: the `gsm_segments` length unit of
// GET /api/v1/channels. GSM-7 (the 3GPP 23.038 default alphabet) fits 160 characters in one
// segment and 153 in each part of a longer one; the characters of its extension table
// (^ { } \ [ ~ ] | €) count twice. Any other character makes the whole text UCS-2: 70 UTF-16
// units in one segment, 67 per part.

const basic = new Set([...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?'
  + '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà']);
const extended = new Set([...'\f^{}\\[~]|€']);

// { encoding: 'GSM-7' | 'UCS-2', segments, units, perSegment, offending }
export function smsSegments(text) {
  let units = 0;
  let offending = '';
  for (const c of text) {
    if (basic.has(c)) units += 1;
    else if (extended.has(c)) units += 2;
    else {
      offending = c;
      break;
    }
  }
  if (!offending) {
    const perSegment = units <= 160 ? 160 : 153;
    return { encoding: 'GSM-7', units, segments: units === 0 ? 0 : Math.ceil(units / perSegment), perSegment, offending };
  }
  const utf16 = text.length;
  const perSegment = utf16 <= 70 ? 70 : 67;
  return { encoding: 'UCS-2', units: utf16, segments: Math.ceil(utf16 / perSegment), perSegment, offending };
}

// "2 SMS segments (GSM-7, 170 of 306)", or with the character that forces UCS-2.
export function describeSegments(text) {
  const s = smsSegments(text);
  if (s.segments === 0) return '';
  const count = `${s.segments} SMS segment${s.segments === 1 ? '' : 's'}`;
  const room = `${s.units} of ${s.segments === 1 ? s.perSegment : s.segments * s.perSegment}`;
  if (s.encoding === 'GSM-7') return `${count} (GSM-7, ${room})`;
  return `${count} (UCS-2 because of “${s.offending}”, ${room})`;
}
