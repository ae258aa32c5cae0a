/** The services of other domains that triggers use (types only). */
import type { AssistantService } from '../assistants/service.js';
import type { AssistantCalls } from '../assistants/call.js';

export interface AssistantsServices {
  assistants: AssistantService;
  calls: AssistantCalls;
}
