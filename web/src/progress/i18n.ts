// The public progress page's own strings (问政事项办理进度).

import { computed } from '@preact/signals';
import { lang } from '../lib/i18n/index.ts';

export const pzh = {
  title: '问政事项办理进度',
  intro: '代表在问政中提出的问题和有关单位的现场承诺，会后由县人大常委会办公室交有关单位办理。本页公开办理进度，每 30 秒自动更新。',
  updated: (time: string) => `数据更新于 ${time}`,
  stale: (time: string) => `暂时无法更新，显示的是 ${time} 的数据`,
  loading: '正在加载…',
  loadFailed: '暂时无法读取办理进度，请稍后再试。',
  noSession: '目前没有可公开的问政活动。',
  chooseSession: '请选择问政活动',
  notYet: '问政活动结束后，交办事项会在这里公开。',
  overview: '总体办理情况',
  figures: {
    issued: '交办事项',
    pending: '办理中',
    answered: '已答复',
    rectified: '已整改',
    closed: '已办结',
    overdue: '逾期',
  },
  rate: '答复/整改率',
  rateHint: '（已答复 + 已整改 + 已办结）÷ 交办事项',
  rateByUnit: '各承办单位答复/整改率',
  statusByUnit: '各承办单位办理状态',
  satisfactionByUnit: '提问代表对办理结果的评价',
  satisfactionHint: '评价人数少于 3 人的单位只显示人数（样本不足），不公开明细。',
  unit: '承办单位',
  rateCol: '满意度',
  counts: '满意 / 基本满意 / 不满意',
  insufficient: (n: number) => `${n} 人评价 · 样本不足`,
  noRatings: '暂无评价',
  items: '交办事项',
  filterUnit: '承办单位',
  filterStatus: '办理状态',
  any: '全部',
  shown: (n: number, total: number) => `显示 ${n} / ${total} 项`,
  empty: '没有符合条件的事项',
  noReply: '尚未答复',
  publicEvidence: '公开的佐证材料',
  download: (name: string) => `下载 ${name}`,
};

export type ProgressMessages = typeof pzh;

export const pen: ProgressMessages = {
  title: 'Follow-up progress',
  intro: "The questions the delegates asked and the units' commitments on the floor are handed to the units by the congress office after the session. This page shows the progress and updates every 30 seconds.",
  updated: (time: string) => `Updated ${time}`,
  stale: (time: string) => `Cannot update right now: showing the data of ${time}`,
  loading: 'Loading…',
  loadFailed: 'The progress cannot be read right now. Please try again later.',
  noSession: 'There is no session to show.',
  chooseSession: 'Choose a session',
  notYet: 'Once the session is over, the assigned items are published here.',
  overview: 'Overview',
  figures: {
    issued: 'Items',
    pending: 'In handling',
    answered: 'Answered',
    rectified: 'Rectified',
    closed: 'Closed',
    overdue: 'Overdue',
  },
  rate: 'Answered/rectified',
  rateHint: '(answered + rectified + closed) ÷ items',
  rateByUnit: 'Answered/rectified by unit',
  statusByUnit: 'Status by unit',
  satisfactionByUnit: "Askers' ratings of the outcome",
  satisfactionHint: 'Units rated by fewer than 3 askers show only the count (too few to break down).',
  unit: 'Unit',
  rateCol: 'Satisfaction',
  counts: 'Satisfied / basically / dissatisfied',
  insufficient: (n: number) => `${n} rated · too few`,
  noRatings: 'No ratings yet',
  items: 'Items',
  filterUnit: 'Unit',
  filterStatus: 'Status',
  any: 'All',
  shown: (n: number, total: number) => `Showing ${n} of ${total}`,
  empty: 'No item matches',
  noReply: 'No reply yet',
  publicEvidence: 'Public evidence',
  download: (name: string) => `Download ${name}`,
};

const catalogs = { zh: pzh, en: pen };
const current = computed(() => catalogs[lang.value]);

export function pt(): ProgressMessages {
  return current.value;
}
