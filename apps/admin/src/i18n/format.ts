import type { Lang } from './I18n.js';

/**
 * The browser's own locale when it speaks the console's language (en-GB dates for a
 * British browser), else the console language's default: one language on the page.
 */
export function localeFor(lang: Lang, languages: readonly string[] = typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language])): string {
  const match = languages.find((language) => language.toLowerCase().split('-')[0] === lang);
  return match ?? (lang === 'zh' ? 'zh-CN' : 'en');
}

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

/** `1536` → `1.5 kB` (binary steps, the locale's number and unit style). */
export function formatBytes(bytes: number | null | undefined, lang: Lang): string {
  if (bytes == null || !Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return new Intl.NumberFormat(localeFor(lang), { style: 'unit', unit: UNITS[unit], unitDisplay: 'short', maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value);
}

/** `83.4` → `1:23`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A timestamp in the locale's date and time style. */
export function formatTime(iso: string | undefined, lang: Lang): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : new Intl.DateTimeFormat(localeFor(lang), { dateStyle: 'short', timeStyle: 'medium' }).format(date);
}
