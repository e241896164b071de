import { Template } from "@huggingface/jinja"
import { describe, expect, it } from "vitest"
import type { ChatMessage } from "./chat.js"
import { type ChatRenderer, magpieTemplate, parseMagpieQuery } from "./magpie.js"

const CHATML = new Template(
  "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}" +
    "{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}" +
    "{%- for message in messages %}{%- if message.role != 'system' %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}" +
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
const chatml: ChatRenderer = (messages, addGenerationPrompt) => CHATML.render({ messages, add_generation_prompt: addGenerationPrompt })

const llama3: ChatRenderer = (messages: readonly ChatMessage[], addGenerationPrompt: boolean) =>
  "<|begin_of_text|>" +
  messages.map((m) => `<|start_header_id|>${m.role}<|end_header_id|>\n\n${m.content.trim()}<|eot_id|>`).join("") +
  (addGenerationPrompt ? "<|start_header_id|>assistant<|end_header_id|>\n\n" : "")

describe("magpieTemplate", () => {
  it("cuts a ChatML template where the user's content starts, keeping its default system prompt", () => {
    expect(magpieTemplate(chatml)).toEqual({
      preQuery: "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n",
      endOfTurn: "<|im_end|>",
      assistantHeader: "<|im_start|>assistant"
    })
  })

  it("puts a given system prompt first", () => {
    expect(magpieTemplate(chatml, "你是一个乐于助人的中文助手。").preQuery).toBe("<|im_start|>system\n你是一个乐于助人的中文助手。<|im_end|>\n<|im_start|>user\n")
  })

  it("finds Llama 3's end-of-turn marker and assistant header", () => {
    expect(magpieTemplate(llama3)).toEqual({
      preQuery: "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n",
      endOfTurn: "<|eot_id|>",
      assistantHeader: "<|start_header_id|>assistant<|end_header_id|>"
    })
  })

  it("fails clearly when the template does not render the user's content", () => {
    expect(() => magpieTemplate(() => "<s>[INST] [/INST]")).toThrow(/does not render the user's content exactly once/)
  })
})

describe("parseMagpieQuery", () => {
  const template = magpieTemplate(chatml)

  it("cuts the query at the end-of-turn marker or the assistant header", () => {
    expect(parseMagpieQuery("  如何用 Python 读取一个 CSV 文件？<|im_end|>\n<|im_start|>assistant\n你可以……", template)).toBe("如何用 Python 读取一个 CSV 文件？")
    expect(parseMagpieQuery("How do I bake sourdough bread at home?\n<|im_start|>assistant\nStart with", template)).toBe("How do I bake sourdough bread at home?")
  })

  it("takes the whole continuation when the generator stopped at the end of the turn", () => {
    expect(parseMagpieQuery("请帮我写一封请假邮件。\n", template)).toBe("请帮我写一封请假邮件。")
  })

  it("rejects empty, too short and truncated queries", () => {
    expect(parseMagpieQuery("<|im_end|>", template)).toBeUndefined()
    expect(parseMagpieQuery("   ", template)).toBeUndefined()
    expect(parseMagpieQuery("你好", template)).toBeUndefined()
    expect(parseMagpieQuery("请详细解释一下相对论的基本", template, { truncated: true })).toBeUndefined()
    expect(parseMagpieQuery("请详细解释一下相对论。<|im_end|>", template, { truncated: true })).toBe("请详细解释一下相对论。")
  })
})
