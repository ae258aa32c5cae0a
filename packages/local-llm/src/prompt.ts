/**
 * AI SDK prompt (LanguageModelV3Prompt) → node-llama-cpp chat history. The model's own chat
 * template (resolved by node-llama-cpp from the GGUF metadata) renders it. Assistant tool calls
 * and their results become node-llama-cpp function-call items, so a tool loop can continue.
 * Files/images are not supported by the local model and are dropped with a warning.
 */
import type { LanguageModelV3Prompt, LanguageModelV3ToolResultOutput, SharedV3Warning } from '@ai-sdk/provider';
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from 'node-llama-cpp';

export interface ConvertedPrompt {
  history: ChatHistoryItem[];
  warnings: SharedV3Warning[];
}

function toolOutputValue(output: LanguageModelV3ToolResultOutput): unknown {
  switch (output.type) {
    case 'text':
    case 'error-text':
      return output.value;
    case 'json':
    case 'error-json':
      return output.value;
    case 'execution-denied':
      return `Tool execution denied${output.reason ? `: ${output.reason}` : ''}`;
    case 'content':
      return output.value.map((p) => (p.type === 'text' ? p.text : `[${p.type}]`)).join('\n');
    default:
      return null;
  }
}

export function convertPrompt(prompt: LanguageModelV3Prompt): ConvertedPrompt {
  const history: ChatHistoryItem[] = [];
  const warnings: SharedV3Warning[] = [];
  const calls = new Map<string, ChatModelFunctionCall>();
  let droppedFiles = false;

  for (const message of prompt) {
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text: message.content });
        break;
      case 'user': {
        const text = message.content
          .map((part) => {
            if (part.type === 'text') return part.text;
            droppedFiles = true;
            return '';
          })
          .join('');
        history.push({ type: 'user', text });
        break;
      }
      case 'assistant': {
        const response: ChatModelResponse['response'] = [];
        for (const part of message.content) {
          if (part.type === 'text') response.push(part.text);
          else if (part.type === 'tool-call') {
            const input = typeof part.input === 'string' ? safeJson(part.input) : part.input;
            const call: ChatModelFunctionCall = { type: 'functionCall', name: part.toolName, params: input, result: null };
            calls.set(part.toolCallId, call);
            response.push(call);
          } else if (part.type === 'tool-result') {
            const call = calls.get(part.toolCallId);
            if (call) call.result = toolOutputValue(part.output);
          } else if (part.type === 'file') droppedFiles = true;
          // reasoning parts are not replayed
        }
        history.push({ type: 'model', response });
        break;
      }
      case 'tool':
        for (const part of message.content) {
          if (part.type !== 'tool-result') continue;
          const call = calls.get(part.toolCallId);
          if (call) call.result = toolOutputValue(part.output);
        }
        break;
    }
  }
  if (droppedFiles) warnings.push({ type: 'unsupported', feature: 'file parts', details: 'the local model reads text only' });
  return { history, warnings };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
