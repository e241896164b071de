import { closeSync, fstatSync, openSync, readSync } from "node:fs"
import { ModelUnsupported } from "../core/errors.js"

/** One graph input or output as an ONNX file declares it. */
export interface ValueSignature {
  readonly name: string
  /** ONNX `TensorProto.DataType` (1 float, 7 int64, 9 bool, 10 float16); undefined when not a tensor. */
  readonly elemType: number | undefined
  /** Dimensions: sizes, or the names of symbolic ones (`""` when unnamed); undefined when the file gives none. */
  readonly shape: ReadonlyArray<number | string> | undefined
}

/** The declared inputs and outputs of an ONNX graph, and the operator types its nodes use. */
export interface GraphSignature {
  readonly inputs: readonly ValueSignature[]
  readonly outputs: readonly ValueSignature[]
  /** op_type of every node of the main graph (subgraphs not included). */
  readonly opTypes: ReadonlySet<string>
}

/** Bytes read per file access: one window serves many small protobuf field headers. */
const WINDOW_BYTES = 64 * 1024

type Read = (position: number, length: number) => Uint8Array

interface Field {
  readonly number: number
  readonly wire: number
  /** The value of a varint field. */
  readonly value: number
  /** Where a length-delimited field's payload starts and ends. */
  readonly start: number
  readonly end: number
}

/**
 * Reads the declared inputs and outputs of an ONNX model file without loading it: walks the
 * protobuf (ModelProto.graph → GraphProto.input/output → ValueInfoProto) and skips nodes and
 * weights by their lengths, so a multi-gigabyte file costs a few reads. Use to check what a model
 * is (decoder with KV cache, sequence classifier) before anything starts; an ONNX Runtime
 * session is still what loads and checks it fully. Throws `ModelUnsupported` for a file that is
 * not an ONNX model.
 */
export const readGraphSignature = (onnxPath: string): GraphSignature => {
  const fd = openSync(onnxPath, "r")
  try {
    const size = fstatSync(fd).size
    let windowStart = 0
    let window = new Uint8Array(0)
    const read: Read = (position, length) => {
      if (position < windowStart || position + length > windowStart + window.length) {
        const bytes = new Uint8Array(Math.min(Math.max(length, WINDOW_BYTES), size - position))
        const got = readSync(fd, bytes, 0, bytes.length, position)
        windowStart = position
        window = bytes.subarray(0, got)
        if (got < length) throw new Error(`the file ends at byte ${position + got}, inside a field`)
      }
      return window.subarray(position - windowStart, position - windowStart + length)
    }
    const graph = [...fields(read, 0, size)].find((f) => f.number === 7 && f.wire === 2)
    if (!graph) throw new Error("it holds no graph")
    const inputs: ValueSignature[] = []
    const outputs: ValueSignature[] = []
    const opTypes = new Set<string>()
    for (const field of fields(read, graph.start, graph.end)) {
      if (field.number === 1 && field.wire === 2) {
        const opType = [...fields(read, field.start, field.end)].find((f) => f.number === 4 && f.wire === 2)
        if (opType) opTypes.add(text(read, opType))
      }
      if (field.wire !== 2 || (field.number !== 11 && field.number !== 12)) continue
      const bytes = read(field.start, field.end - field.start).slice()
      const value = valueInfo((p, l) => bytes.subarray(p, p + l), bytes.length)
      ;(field.number === 11 ? inputs : outputs).push(value)
    }
    return { inputs, outputs, opTypes }
  } catch (e) {
    if (e instanceof ModelUnsupported) throw e
    throw new ModelUnsupported({ model: onnxPath, reason: `not a readable ONNX model: ${(e as Error).message}` })
  } finally {
    closeSync(fd)
  }
}

/** A ValueInfoProto: 1 name, 2 type (TypeProto: 1 tensor_type {1 elem_type, 2 shape {1 dim {1 value, 2 param}}}). */
const valueInfo = (read: Read, size: number): ValueSignature => {
  let name = ""
  let elemType: number | undefined
  let shape: Array<number | string> | undefined
  for (const field of fields(read, 0, size)) {
    if (field.number === 1 && field.wire === 2) name = text(read, field)
    if (field.number !== 2 || field.wire !== 2) continue
    for (const type of fields(read, field.start, field.end)) {
      if (type.number !== 1 || type.wire !== 2) continue
      for (const tensor of fields(read, type.start, type.end)) {
        if (tensor.number === 1 && tensor.wire === 0) elemType = tensor.value
        if (tensor.number !== 2 || tensor.wire !== 2) continue
        shape = []
        for (const dim of fields(read, tensor.start, tensor.end)) {
          if (dim.number !== 1 || dim.wire !== 2) continue
          let size: number | string = ""
          for (const part of fields(read, dim.start, dim.end)) {
            if (part.number === 1 && part.wire === 0) size = part.value
            if (part.number === 2 && part.wire === 2) size = text(read, part)
          }
          shape.push(size)
        }
      }
    }
  }
  return { name, elemType, shape }
}

const text = (read: Read, field: Field): string => Buffer.from(read(field.start, field.end - field.start)).toString("utf8")

/** The fields of one protobuf message between `start` and `end`, each read from its header only. */
function* fields(read: Read, start: number, end: number): Generator<Field> {
  let position = start
  while (position < end) {
    const head = read(position, Math.min(20, end - position))
    const [tag, afterTag] = varint(head, 0)
    const wire = tag % 8
    const number = Math.floor(tag / 8)
    if (wire === 0) {
      const [value, next] = varint(head, afterTag)
      yield { number, wire, value, start: position + afterTag, end: position + next }
      position += next
    } else if (wire === 2) {
      const [length, next] = varint(head, afterTag)
      const payload = position + next
      if (payload + length > end) throw new Error(`field ${number} at byte ${position} runs past its message`)
      yield { number, wire, value: length, start: payload, end: payload + length }
      position = payload + length
    } else if (wire === 1 || wire === 5) {
      position += afterTag + (wire === 1 ? 8 : 4)
    } else {
      throw new Error(`unexpected protobuf wire type ${wire} at byte ${position}`)
    }
  }
  if (position !== end) throw new Error(`a field runs past byte ${end}`)
}

/** A base-128 varint at `at`: its value (exact up to 2^53) and the offset after it. */
const varint = (bytes: Uint8Array, at: number): [number, number] => {
  let value = 0
  for (let i = at, scale = 1; i < bytes.length && i < at + 10; i++, scale *= 128) {
    const byte = bytes[i]!
    value += (byte & 0x7f) * scale
    if (byte < 0x80) return [value, i + 1]
  }
  throw new Error(`a varint at byte ${at} does not end`)
}
