// Strings of the console's action bar (Dock.tsx), in both languages, driven by
// the shared language signal. Kept apart from i18n.ts, which is long enough.
// `dzh` is the source of truth; `den` must have its shape (tsc checks).

import { computed } from '@preact/signals';
import { lang } from '../lib/i18n/index.ts';

export const dzh = {
  label: '当前操作',
  phase: (name: string) => `当前阶段：${name}`,
  checkedIn: (present: number, roster: number) => `已签到 ${present} / ${roster} 名代表`,
  nothingLeft: '没有待上席或待审核的问题',
  allRated: '各应询单位均已测评',
  review: (n: number) => `${n} 个问题待审核，还没有可以上席的问题`,
  reviewButton: '去审核',
  next: '下一项',
  onFloor: '发言席',
  noRoundYet: '尚未开始测评',
  unitsLeft: (n: number) => `还有 ${n} 个答复过的应询单位未测评`,
  chooseUnits: '选择单位并开始测评',
  roundOpen: (n: number) => `第${n}轮测评进行中`,
  afterSession: '会后文件与表格可以下载',
  documents: '打开文件与表格',
};

export type DockMessages = typeof dzh;

export const den: DockMessages = {
  label: 'Current action',
  phase: (name: string) => `Phase: ${name}`,
  checkedIn: (present: number, roster: number) => `${present} / ${roster} delegates checked in`,
  nothingLeft: 'No question waiting for the floor or for review',
  allRated: 'Every unit has been rated',
  review: (n: number) => `${n} questions await review; none can go on the floor yet`,
  reviewButton: 'Review',
  next: 'Next',
  onFloor: 'On the floor',
  noRoundYet: 'No evaluation round yet',
  unitsLeft: (n: number) => `${n} units that answered are not rated yet`,
  chooseUnits: 'Choose units and open a round',
  roundOpen: (n: number) => `Round ${n} is open`,
  afterSession: 'The documents and spreadsheets can be downloaded',
  documents: 'Open the documents',
};

const catalogs = { zh: dzh, en: den };
const current = computed(() => catalogs[lang.value]);

/** The action bar's messages in the current language (subscribes the component). */
export function dt(): DockMessages {
  return current.value;
}
