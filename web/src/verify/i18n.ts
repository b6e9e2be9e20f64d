// The receipt check's own strings (回执核验).

import { computed } from '@preact/signals';
import { lang } from '../lib/i18n/index.ts';

export const vzh = {
  title: '回执核验',
  intro: '测评或评价提交后，您的手机上会显示一个 16 位回执码。在这里输入回执码，可以核验这张票是否已记入记录并计入结果。核验不会显示您的选择，也不会显示是谁投的票。',
  session: '问政活动',
  code: '回执码',
  codeHint: '16 位，由数字 0–9 和字母 a–f 组成，可带空格',
  check: '核验',
  checking: '正在核验…',
  badCode: '回执码应为 16 位数字和字母（0–9、a–f），请检查后重新输入。',
  counted: '已计入：这张票在记录中，并已计入公布的结果。',
  recorded: '已记录：这张票在记录中，测评结束揭晓结果时计入。',
  notFound: '记录中没有这个回执码。请核对输入；如确认无误，请联系县人大常委会办公室。',
  busy: '核验请求过多，请稍等片刻再试。',
  failed: '暂时无法核验，请稍后再试。',
  ballot: (evaluation: number, unit: string) => `第 ${evaluation} 轮满意度测评 · ${unit}`,
  itemRating: (item: number) => `交办事项 ${item} 的办理评价`,
  head: '记录链头',
  headHint: '记录链头是整个记录的指纹。与《人大工作信息》和测评结果报告上印的链头一致，说明您核验的就是公布的那份记录。',
  noSession: '目前没有可核验的问政活动。',
  chooseSession: '请选择问政活动',
};

export type VerifyMessages = typeof vzh;

export const ven: VerifyMessages = {
  title: 'Receipt check',
  intro: 'After you rate, your phone shows a 16-character receipt code. Enter it here to check that your ballot is in the record and counted. The check never shows your choice or who cast the ballot.',
  session: 'Session',
  code: 'Receipt code',
  codeHint: '16 characters, digits 0–9 and letters a–f; spaces are fine',
  check: 'Check',
  checking: 'Checking…',
  badCode: 'A receipt code is 16 digits and letters (0–9, a–f). Please check it and try again.',
  counted: 'Counted: this ballot is in the record and in the published results.',
  recorded: 'Recorded: this ballot is in the record and will be counted when the results are revealed.',
  notFound: 'No ballot with this receipt code is in the record. Please check what you typed; if it is right, contact the congress office.',
  busy: 'Too many checks right now; please try again in a moment.',
  failed: 'The check is not available right now; please try again later.',
  ballot: (evaluation: number, unit: string) => `Evaluation round ${evaluation} · ${unit}`,
  itemRating: (item: number) => `Rating of assignment item ${item}`,
  head: 'Chain head',
  headHint: 'The chain head is the fingerprint of the whole record. If it equals the one printed in the bulletin and the results report, you checked the record that was published.',
  noSession: 'There is no session to check yet.',
  chooseSession: 'Choose a session',
};

const current = computed(() => (lang.value === 'en' ? ven : vzh));

export function vt(): VerifyMessages {
  return current.value;
}
