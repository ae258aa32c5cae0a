/** MCP tool results → the text handed to the model, size-limited. */

interface ContentItem {
  type: string;
  text?: string;
  data?: string;
  mimeType?: string;
  uri?: string;
  name?: string;
  resource?: { uri?: string; text?: string; blob?: string; mimeType?: string };
}

export function toolResultText(result: Record<string, unknown>): string {
  if ('toolResult' in result) return JSON.stringify(result.toolResult);
  const content = Array.isArray(result.content) ? (result.content as ContentItem[]) : [];
  const parts = content.map((c) => {
    switch (c.type) {
      case 'text':
        return c.text ?? '';
      case 'image':
      case 'audio':
        return `[${c.type} ${c.mimeType ?? ''}, ${Math.floor(((c.data ?? '').length * 3) / 4)} bytes]`;
      case 'resource':
        return c.resource?.text ?? `[resource ${c.resource?.uri ?? ''}${c.resource?.mimeType ? ` (${c.resource.mimeType})` : ''}]`;
      case 'resource_link':
        return `[resource link ${c.uri ?? ''}${c.name ? ` "${c.name}"` : ''}]`;
      default:
        return JSON.stringify(c);
    }
  });
  if (parts.length === 0 && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  return parts.join('\n');
}

export function truncateOutput(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n[output truncated: showing ${maxChars} of ${text.length} characters]`;
}
