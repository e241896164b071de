import { writeFileSync } from "node:fs"

const TOPICS = [
  ["photosynthesis", "光合作用"], ["binary search", "二分查找"], ["the water cycle", "水循环"], ["inflation", "通货膨胀"],
  ["black holes", "黑洞"], ["recursion", "递归"], ["supply chains", "供应链"], ["vaccines", "疫苗"],
  ["plate tectonics", "板块构造"], ["compound interest", "复利"], ["neural networks", "神经网络"], ["the Silk Road", "丝绸之路"],
  ["ocean tides", "潮汐"], ["hash tables", "哈希表"], ["climate change", "气候变化"], ["the immune system", "免疫系统"],
  ["tea ceremonies", "茶道"], ["solar panels", "太阳能电池板"], ["public key cryptography", "公钥密码学"], ["bridges", "桥梁"]
] as const
const AUDIENCES = [
  ["a child", "小学生"], ["a student", "大学生"], ["an engineer", "工程师"], ["a farmer", "农民"], ["a retiree", "退休老人"], ["a chef", "厨师"], ["a nurse", "护士"]
] as const
const FORMS = [
  (t: string, a: string, k: number) => `Explain ${t} to ${a} in ${k} sentences.`,
  (t: string, a: string, k: number) => `Write ${k} questions ${a} might ask about ${t}, with short answers.`,
  (t: string, a: string, k: number) => `Give ${a} ${k} surprising facts about ${t}.`
]
const ZH_FORMS = [
  (t: string, a: string, k: number) => `请用${k}句话向${a}解释${t}。`,
  (t: string, a: string, k: number) => `写出${a}可能会问的关于${t}的${k}个问题，并简要回答。`,
  (t: string, a: string, k: number) => `告诉${a}关于${t}的${k}个有趣的事实。`
]

/**
 * Writes `count` prompts as JSONL (`{"id","prompt"}`), half Chinese and half English, built from
 * topics, audiences and forms with a serial number, so every prompt is distinct and the file is
 * the same on every run. Both sides of the engine benchmark read this file.
 */
export const writeBenchPrompts = (path: string, count: number): void => {
  const lines: string[] = []
  for (let i = 0; i < count; i++) {
    const [topic, zhTopic] = TOPICS[i % TOPICS.length]!
    const [audience, zhAudience] = AUDIENCES[Math.floor(i / TOPICS.length) % AUDIENCES.length]!
    const k = 2 + (i % 5)
    const form = Math.floor(i / 7) % FORMS.length
    const prompt = i % 2 === 0 ? `${ZH_FORMS[form]!(zhTopic, zhAudience, k)}（第${i}题）` : `${FORMS[form]!(topic, audience, k)} (No. ${i})`
    lines.push(JSON.stringify({ id: `p${i}`, prompt }))
  }
  writeFileSync(path, `${lines.join("\n")}\n`)
}
