/**
 * The conversation domain's errors, with the reference's texts (routers/utils.py raise_access_denied,
 * routers/feedback.py, routers/conversation.py). ACL denials are 403 here (API contract), 401 there.
 */
import { ApiError, forbidden } from '../api/errors.js';

export type ConversationAction = 'view' | 'write' | 'delete' | 'share';

export const ACL_HELP =
  'Please ensure you have the correct role or permissions assigned to your account. If you believe this is an error, contact your system administrator.';

export const accessDenied = (action: ConversationAction) =>
  forbidden(`You do not have the necessary permissions to ${action} this entity.`, 'Access denied', ACL_HELP);

export const conversationNotFound = (id: string) =>
  new ApiError(
    404,
    'Conversation not found',
    `The conversation with ID [${id}] could not be found in the system.`,
    'Please verify the conversation ID and try again. If you believe this is an error, contact support.',
  );

/** An assistant call naming someone else's conversation (assistant handler texts). */
export const notYourConversation = (id: string) =>
  forbidden(
    `You don't have permission to access conversation ${id}.`,
    'Access denied',
    'Please ensure you have the correct permissions or contact the conversation owner.',
  );

export const conversationFinished = (id: string) =>
  new ApiError(
    409,
    'Conversation is finished',
    `This conversation was closed and can no longer receive new messages (id=${id}).`,
    'Start a new conversation to continue.',
  );

export const folderExists = (help: string | null) => new ApiError(400, 'Folder name already exists', 'Folder name should be unique', help);

export const historyEmpty = () =>
  new ApiError(
    400,
    'History cannot be empty',
    'The request must contain at least one message in the history.',
    'Please provide a valid history array with at least one message.',
  );

export const historyItemNotFound = (id: string, index: number) =>
  new ApiError(400, 'History item not found', `The conversation [${id}] has no history item with index [${index}].`);

export const invalidMessageIndex = (id: string, index: number) =>
  new ApiError(400, 'Invalid message index', `The conversation [${id}] has no message at position [${index}].`);

export const workflowNotFound = (id: string) => new ApiError(404, `Requested workflow with id ${id} not found`);
