/**
 * The conversations module: `/v1/conversations...` (history, folders, files, finishing), share
 * links (`/v1/share/conversations`), feedback (`/v1/feedback`) and the admin conversation views.
 * Owner-only, admins excepted. The assistants and workflows directory is attached by modules.ts.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { publicBaseUrl } from '../config/config.js';
import type { FileService } from '../files/service.js';
import { feedbackRoutes } from './feedback/routes.js';
import { FolderService } from './folders.js';
import { conversationRoutes } from './routes.js';
import { ConversationService } from './service.js';
import { shareRoutes } from './share/routes.js';
import { ShareService } from './share/service.js';

export function conversationsModule(infra: Infra, deps: { files?: FileService } = {}): Module<ConversationService> {
  const conversations = new ConversationService(infra.store.db, infra.store.dialect);
  const folders = new FolderService(conversations);
  const shares = new ShareService(conversations, publicBaseUrl(infra.config));
  return {
    name: 'conversations',
    services: conversations,
    routes: [...conversationRoutes({ conversations, folders, files: deps.files }), ...shareRoutes(shares), ...feedbackRoutes(conversations.feedback)],
  };
}
