// Keyed lists: each item's node is made once for its key and updated in place, and the list
// stays in `compare` order by moving only the node whose place changed. An event therefore
// touches the one item it is about: the other nodes, the focus and a screen reader's place
// stay where they were, and a busy queue costs a binary search per event, not a redraw.
export class KeyedList {
  // `container`: the element whose children are the nodes (nothing else may live in it).
  // `key(item)` names an item; `compare(a, b)` orders two (negative: a first); `create(item)`
  // makes a node and `update(node, item)` brings it up to date (after create too).
  // `onFocusLost()` is called when the focused item went and no neighbour can take the focus.
  constructor(container, { key, compare, create, update, onFocusLost = () => {} }) {
    this.container = container;
    this.options = { key, compare, create, update, onFocusLost };
    this.entries = [];  // {key, item, node}, in order
    this.byKey = new Map();
  }

  get size() { return this.entries.length; }
  has(k) { return this.byKey.has(k); }
  get(k) { return this.byKey.get(k)?.item; }
  node(k) { return this.byKey.get(k)?.node; }
  items() { return this.entries.map((e) => e.item); }

  // Adds the item or updates the one with its key, moving it only if its place changed.
  set(item) {
    const { key, compare, create, update } = this.options;
    const k = key(item);
    let entry = this.byKey.get(k);
    if (!entry) {
      entry = { key: k, item, node: create(item) };
      this.byKey.set(k, entry);
      update(entry.node, item);
      this.insert(entry);
      return;
    }
    entry.item = item;
    update(entry.node, item);
    const at = this.entries.indexOf(entry);
    const before = this.entries[at - 1];
    const next = this.entries[at + 1];
    if ((before && compare(before.item, item) > 0) || (next && compare(item, next.item) > 0)) {
      this.entries.splice(at, 1);
      this.insert(entry);
    }
  }

  delete(k) {
    const entry = this.byKey.get(k);
    if (!entry) return false;
    const at = this.entries.indexOf(entry);
    const hadFocus = entry.node.contains(document.activeElement);
    this.entries.splice(at, 1);
    this.byKey.delete(k);
    entry.node.remove();
    if (hadFocus) {
      // The next item takes the focus, else the one before, else the owner decides.
      const heir = this.entries[at] || this.entries[at - 1];
      const target = heir?.node.querySelector('button, a[href], [tabindex]');
      if (target) target.focus();
      else this.options.onFocusLost();
    }
    return true;
  }

  // Makes the list hold exactly `items` (after a reload): known keys are updated in place.
  replace(items) {
    const { key } = this.options;
    const keep = new Set(items.map(key));
    for (const k of [...this.byKey.keys()]) if (!keep.has(k)) this.delete(k);
    for (const item of items) this.set(item);
  }

  // Puts `entry` (not in `entries`) at its place by binary search, and its node with it.
  insert(entry) {
    const { compare } = this.options;
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (compare(this.entries[mid].item, entry.item) <= 0) low = mid + 1;
      else high = mid;
    }
    this.entries.splice(low, 0, entry);
    const next = this.entries[low + 1]?.node || null;
    if (entry.node.parentNode === this.container && entry.node.nextSibling === next) return;
    // Moving a node takes the focus from it; give it back.
    const focused = entry.node.contains(document.activeElement) ? document.activeElement : null;
    this.container.insertBefore(entry.node, next);
    if (focused && document.activeElement !== focused) focused.focus({ preventScroll: true });
  }
}
