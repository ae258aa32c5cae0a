/**
 * Conversation folders (reference models/conversation_folder.py): one record per (user, name);
 * a conversation is in a folder by the name in its `folder`. `Default` is reserved (the UI's
 * folder of conversations without one).
 */
import type { AuthUser } from '../api/auth.js';
import { newRowId } from '../store/ids.js';
import { folderExists } from './errors.js';
import type { ConversationService } from './service.js';

const RESERVED = 'Default';

export class FolderService {
  constructor(private readonly conversations: ConversationService) {}

  private get db() {
    return this.conversations.db;
  }

  async list(user: AuthUser) {
    const rows = await this.db.selectFrom('conversation_folders').selectAll().where('user_id', '=', user.id).orderBy('date').orderBy('id').execute();
    return rows.map((f) => ({
      id: f.id,
      date: f.date,
      update_date: f.update_date,
      folder_name: f.folder_name,
      user_id: f.user_id,
      user_abilities: [] as string[],
    }));
  }

  private async exists(userId: string, name: string): Promise<boolean> {
    return !!(await this.db.selectFrom('conversation_folders').select('id').where('user_id', '=', userId).where('folder_name', '=', name).executeTakeFirst());
  }

  /** 400 for a duplicate, `Default` or an empty name (help `""`, as the reference). */
  async create(user: AuthUser, name: string): Promise<void> {
    if (!name || name === RESERVED || (await this.exists(user.id, name))) throw folderExists('');
    const at = new Date().toISOString();
    try {
      await this.db.insertInto('conversation_folders').values({ id: newRowId(), user_id: user.id, folder_name: name, date: at, update_date: at }).execute();
    } catch (err) {
      // Two creates of one name at once: the unique index decides.
      if (await this.exists(user.id, name)) throw folderExists('');
      throw err;
    }
  }

  /**
   * Renames `from` to `to` and moves its conversations, in one transaction, after checking `to`
   * (400 when taken or reserved: nothing changes). Renaming a folder that has no record creates `to`.
   */
  async rename(user: AuthUser, from: string, to: string): Promise<void> {
    if (from === to) return;
    if (!to || to === RESERVED || (await this.exists(user.id, to))) throw folderExists(null);
    const at = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      const old = await trx.selectFrom('conversation_folders').select('id').where('user_id', '=', user.id).where('folder_name', '=', from).executeTakeFirst();
      if (old) await trx.updateTable('conversation_folders').set({ folder_name: to, update_date: at }).where('id', '=', old.id).execute();
      else await trx.insertInto('conversation_folders').values({ id: newRowId(), user_id: user.id, folder_name: to, date: at, update_date: at }).execute();
      await trx.updateTable('conversations').set({ folder: to }).where('user_id', '=', user.id).where('folder', '=', from).execute();
    });
  }

  /** Deletes the folder; its conversations are deleted too, or left without a folder (`""`). */
  async remove(user: AuthUser, name: string, removeConversations: boolean): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (removeConversations) {
        const inFolder = (await trx.selectFrom('conversations').select('id').where('user_id', '=', user.id).where('folder', '=', name).execute()).map(
          (r) => r.id,
        );
        await this.conversations.deleteMany(trx, inFolder);
      } else {
        await trx.updateTable('conversations').set({ folder: '' }).where('user_id', '=', user.id).where('folder', '=', name).execute();
      }
      await trx.deleteFrom('conversation_folders').where('user_id', '=', user.id).where('folder_name', '=', name).execute();
    });
  }
}
