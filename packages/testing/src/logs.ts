// Log lines as tools read them.

/**
 * Keys that occur twice in one object of a JSON text (`JSON.parse` silently keeps the
 * last one, which is exactly what breaks filtering by `level` in log tools).
 */
export function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      let k = j + 1;
      while (text[k] === ' ') k++;
      if (top && text[k] === ':') {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) found.push(key);
        top.add(key);
      }
      i = j + 1;
      continue;
    }
    if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    i++;
  }
  return found;
}
