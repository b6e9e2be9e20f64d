// Who speaks on the floor, as the hall announces it (issue 10).

import type { SpeakerDto } from '../protocol.ts';
import { t } from './i18n/index.ts';

/** "县人大代表 张三、乡镇人大代表 李四". */
export function speakerLine(speakers: SpeakerDto[]): string {
  const m = t();
  return speakers.map((s) => `${m.levels[s.level]} ${s.name}`).join('、');
}
