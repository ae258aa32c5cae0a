/**
 * Share links and feedback over HTTP on both databases. A link is a read-only snapshot opened
 * with its token alone (no account): it shows the snapshot and nothing else, never changes
 * afterwards, can be revoked, and unguessable tokens are stored only as hashes. Feedback marks
 * one message, replaces the author's earlier entry, goes with its message, and is counted for
 * analytics by FeedbackService.feedbackCounts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, tempDir, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

const alice = testAuthHeaders({ id: 'alice-7f3', username: 'alice', name: 'Alice', projects: ['demo'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });
const root = testAuthHeaders({ id: 'root', username: 'root', name: 'Root', roles: ['admin'], isAdmin: true, projects: [] });

const ACL_HELP =
  'Please ensure you have the correct role or permissions assigned to your account. If you believe this is an error, contact your system administrator.';
const denied = (verb: string) => ({
  error: { message: 'Access denied', details: `You do not have the necessary permissions to ${verb} this entity.`, help: ACL_HELP },
});
const notFound = (id: string) => ({
  error: {
    message: 'Conversation not found',
    details: `The conversation with ID [${id}] could not be found in the system.`,
    help: 'Please verify the conversation ID and try again. If you believe this is an error, contact support.',
  },
});
const shareGone = {
  error: {
    message: 'Shared conversation not found',
    details: "The shared conversation you're trying to access doesn't exist or has been removed.",
    help: 'Please check the URL and try again.',
  },
};

describe.each(DB_KINDS)('share links and feedback (%s)', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  const tmp = tempDir('codemie-share-');
  let assistantId: string;
  let fileUrl: string;

  const req = async (method: string, url: string, headers: Record<string, string>, payload?: unknown) => {
    const r = await p.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: r.statusCode, body: r.body ? r.json() : null, raw: r.body };
  };
  const chat = (text: string, conversationId: string, extra: Record<string, unknown> = {}, headers = alice) =>
    req('POST', `/v1/assistants/${assistantId}/model`, headers, { text, conversation_id: conversationId, ...extra });
  const open = (token: string, headers: Record<string, string> = {}) => req('GET', `/v1/share/conversations/${token}`, headers);

  beforeAll(async () => {
    llm = await startTestLlmServer();
    const { env } = writeTestModelsFile(llm, tmp.dir);
    p = await startTestPlatform({ db, testAuth: true, listen: true, env: { ...env, CODEMIE_LLM_MAX_RETRIES: '0' } });
    const r = await req('POST', '/v1/assistants', alice, {
      name: 'Share Bot',
      description: 'd',
      system_prompt: 's',
      llm_model_type: 'test-model',
      project: 'demo',
      icon_url: 'https://i.example/s.png',
    });
    assistantId = r.body.assistantId;
    const form = new FormData();
    form.append('file', new Blob(['private content'], { type: 'text/plain' }), 'report.txt');
    fileUrl = ((await (await fetch(`${p.url}/v1/files/`, { method: 'POST', headers: alice, body: form })).json()) as { file_url: string }).file_url;
  });
  afterAll(async () => {
    await p?.stop();
    await llm?.close();
    tmp.cleanup();
  });

  it('a link opened without a token shows the snapshot and nothing else; later changes do not show; access is counted', async () => {
    await chat('Shared question', 'conv-share', { file_names: [fileUrl] });
    await chat('Regenerated question', 'conv-share', { history_index: 0 });
    await chat('SECRET other conversation', 'conv-private');
    await req('PUT', '/v1/conversations/conv-share', alice, { folder: 'Private folder', pinned: true });
    await req('POST', '/v1/feedback', alice, {
      conversationId: 'conv-share',
      messageIndex: 1,
      assistant_id: assistantId,
      request: 'q',
      response: 'a',
      mark: 'wrong',
      author: 'user',
      comments: 'PRIVATE COMMENT',
    });

    const made = await req('POST', '/v1/share/conversations', alice, { chat_id: 'conv-share' });
    expect(made.status).toBe(201);
    const { token, share_id, share_url, created_at, access_count } = made.body;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/); // 192 random bits
    expect(share_id).toMatch(/^share_/);
    expect(share_url).toBe(`${new URL(share_url).origin}/v1/share/conversations/${token}`);
    expect(access_count).toBe(0);
    expect(Date.parse(created_at)).not.toBeNaN();

    // Afterwards: a new turn and a rename are not part of the snapshot.
    await chat('After sharing', 'conv-share');
    await req('PUT', '/v1/conversations/conv-share', alice, { name: 'Renamed later' });

    const anon = await open(token);
    expect(anon.status).toBe(200);
    expect(Object.keys(anon.body).sort()).toEqual(['access_count', 'conversation', 'created_at', 'shared_by']);
    expect(anon.body).toMatchObject({ shared_by: 'Alice', created_at, access_count: 1 });
    const c = anon.body.conversation;
    expect(c).toMatchObject({
      id: 'conv-share',
      conversation_name: 'Shared question',
      user_id: '',
      user_name: 'Alice',
      project: null,
      folder: null,
      pinned: false,
      llm_model: null,
      final_user_mark: null,
      user_abilities: ['read'],
      initial_assistant_id: assistantId,
      assistant_data: [
        {
          assistant_id: assistantId,
          assistant_name: 'Share Bot',
          assistant_icon: 'https://i.example/s.png',
          assistant_type: null,
          context: null,
          tools: null,
          conversation_starters: [],
        },
      ],
    });
    // The latest variant of each turn, texts and file names only.
    expect(c.history.map((m: { role: string; message: string; historyIndex: number }) => [m.role, m.message, m.historyIndex])).toEqual([
      ['User', 'Regenerated question', 0],
      ['Assistant', 'Echo: Regenerated question', 0],
    ]);
    for (const m of c.history) {
      expect(m).toMatchObject({
        thoughts: [],
        userMark: null,
        operatorMark: null,
        inputTokens: null,
        outputTokens: null,
        moneySpent: null,
        messageRaw: null,
        responseTime: null,
      });
    }
    const text = anon.raw;
    for (const secret of [
      'alice-7f3',
      'SECRET other',
      'conv-private',
      'Private folder',
      'PRIVATE COMMENT',
      'After sharing',
      'Renamed later',
      '"demo"',
      fileUrl,
      'private content',
      'Codemie Thoughts',
    ]) {
      expect(text).not.toContain(secret);
    }
    // The first question is the conversation's name; its regenerated text replaced it in the history.
    expect(text.match(/Shared question/g)).toHaveLength(1);
    // Another account sees the same snapshot; the count goes on.
    const asBob = await open(token, bob);
    expect(asBob.body.access_count).toBe(2);
    expect(asBob.body.conversation).toEqual({ ...c });
    // The owner still sees the live conversation.
    expect((await req('GET', '/v1/conversations/conv-share', alice)).body.history).toHaveLength(6);
  });

  it('files in a snapshot are listed by name and are not downloadable through it', async () => {
    await chat('With a file', 'conv-share-file', { file_names: [fileUrl] });
    const { token } = (await req('POST', '/v1/share/conversations', alice, { chat_id: 'conv-share-file' })).body;
    const snap = (await open(token)).body.conversation;
    expect(snap.history[0].fileNames).toEqual(['report.txt']);
    expect((await req('GET', `/v1/files/${fileUrl}`, {})).status).toBe(401);
    expect((await req('GET', `/v1/share/conversations/${token}/files/${fileUrl}`, {})).status).toBe(404);
  });

  it('guessing fails with 404; only a hash of the token is stored', async () => {
    await chat('Guess me', 'conv-guess');
    const { token, share_id } = (await req('POST', '/v1/share/conversations', alice, { chat_id: 'conv-guess' })).body;
    for (const guess of [
      randomBytes(24).toString('base64url'),
      'short',
      `${token}x`,
      token.slice(0, -1),
      token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase(),
    ]) {
      const r = await open(guess);
      expect(r.status).toBe(404);
      expect(r.body).toEqual(shareGone);
    }
    const rows = await p.infra.store.db.selectFrom('conversation_shares').selectAll().where('id', '=', share_id).execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0].token_hash).toBe(createHash('sha256').update(token).digest('hex'));
  });

  it('revoking: owner, sharer or admin; the link answers 404 afterwards; links are listed without tokens', async () => {
    await chat('Revoke me', 'conv-revoke');
    const first = (await req('POST', '/v1/share/conversations', alice, { chat_id: 'conv-revoke' })).body;
    const second = (await req('POST', '/v1/share/conversations', alice, { chat_id: 'conv-revoke' })).body;
    expect(second.token).not.toBe(first.token);
    const listed = await req('GET', '/v1/conversations/conv-revoke/shares', alice);
    expect(listed.body.map((s: { share_id: string }) => s.share_id)).toEqual([first.share_id, second.share_id]);
    expect(listed.raw).not.toContain(first.token);
    expect(listed.body[0]).toEqual({
      share_id: first.share_id,
      conversation_id: 'conv-revoke',
      shared_by: 'Alice',
      created_at: first.created_at,
      access_count: 0,
      last_access_at: null,
    });
    expect((await req('GET', '/v1/conversations/ghost/shares', alice)).body).toEqual(notFound('ghost'));
    expect(await req('GET', '/v1/conversations/conv-revoke/shares', bob)).toEqual(expect.objectContaining({ status: 403, body: denied('share') }));

    expect(await req('DELETE', `/v1/conversations/conv-revoke/shares/${first.share_id}`, bob)).toEqual(
      expect.objectContaining({ status: 403, body: denied('share') }),
    );
    expect((await req('DELETE', `/v1/conversations/conv-revoke/shares/${first.share_id}`, alice)).body).toEqual({ message: 'Share link revoked' });
    expect((await open(first.token)).status).toBe(404);
    expect((await open(second.token)).status).toBe(200);
    const again = await req('DELETE', `/v1/conversations/conv-revoke/shares/${first.share_id}`, alice);
    expect(again.status).toBe(404);
    expect(again.body.error.message).toBe('Share not found');
    expect((await req('DELETE', `/v1/conversations/conv-revoke/shares/${second.share_id}`, root)).status).toBe(200);
    expect((await open(second.token)).status).toBe(404);

    // Deleting the conversation revokes its links.
    const third = (await req('POST', '/v1/share/conversations', alice, { chat_id: 'conv-revoke' })).body;
    await req('DELETE', '/v1/conversations/conv-revoke', alice);
    expect((await open(third.token)).status).toBe(404);
  });

  it('making a link: owner or admin only (403 share), unknown conversation 404, chat_id required', async () => {
    await chat('Not yours', 'conv-acl-share');
    expect(await req('POST', '/v1/share/conversations', bob, { chat_id: 'conv-acl-share' })).toEqual(
      expect.objectContaining({ status: 403, body: denied('share') }),
    );
    expect(await req('POST', '/v1/share/conversations', alice, { chat_id: 'ghost' })).toEqual(
      expect.objectContaining({ status: 404, body: notFound('ghost') }),
    );
    expect((await req('POST', '/v1/share/conversations', alice, {})).status).toBe(422);
    const byAdmin = await req('POST', '/v1/share/conversations', root, { chat_id: 'conv-acl-share' });
    expect(byAdmin.status).toBe(201);
    expect((await open(byAdmin.body.token)).body.shared_by).toBe('Root');
  });

  it('feedback: marks the message, replaces the earlier entry, is removed with DELETE; counted for analytics', async () => {
    const counts = p.services.conversations.feedback;
    const conversationId = 'conv-fb';
    await chat('Q1', 'conv-fb');
    await chat('Q2', 'conv-fb');
    const body = (over: Record<string, unknown> = {}) => ({
      conversationId: 'conv-fb',
      messageIndex: 1,
      assistant_id: assistantId,
      request: 'Q1',
      response: 'Echo: Q1',
      mark: 'wrong',
      author: 'user',
      comments: 'bad',
      ...over,
    });
    const first = await req('POST', '/v1/feedback', alice, body());
    expect(first.status).toBe(200);
    expect(Object.keys(first.body)).toEqual(['id']);
    let d = (await req('GET', '/v1/conversations/conv-fb', alice)).body;
    expect(d.history[1].userMark).toMatchObject({ mark: 'wrong', comments: 'bad', feedback_id: first.body.id });
    expect(Date.parse(d.history[1].userMark.date)).not.toBeNaN();

    const second = await req('POST', '/v1/feedback', alice, body({ mark: 'correct', comments: null }));
    expect((await req('GET', `/v1/feedback/${first.body.id}`, alice)).status).toBe(404);
    expect((await req('GET', `/v1/feedback/${second.body.id}`, alice)).body).toMatchObject({
      id: second.body.id,
      conversationId: 'conv-fb',
      mark: 'correct',
      request: 'Q1',
      response: 'Echo: Q1',
      author: 'user',
      assistant_id: assistantId,
    });
    await req('POST', '/v1/feedback', alice, body({ messageIndex: 3, mark: 'partially correct', request: 'Q2', response: 'Echo: Q2' }));
    expect(await counts.feedbackCounts({ assistantId, conversationId })).toEqual({ total: 2, correct: 1, partially_correct: 1, wrong: 0, average_rating: 75 });
    expect(await counts.feedbackCounts({ project: 'demo', conversationOwnerId: 'alice-7f3' })).toMatchObject({ total: 3 }); // with the share test's entry;
    expect(await counts.feedbackCounts({ since: '2999-01-01T00:00:00Z' })).toEqual({
      total: 0,
      correct: 0,
      partially_correct: 0,
      wrong: 0,
      average_rating: null,
    });
    expect(await counts.feedbackCountsBy({ conversationId }, 'assistant_id')).toEqual([
      { key: assistantId, total: 2, correct: 1, partially_correct: 1, wrong: 0, average_rating: 75 },
    ]);

    // Operator feedback: admins only; it writes operatorMark.
    expect(await req('POST', '/v1/feedback', alice, body({ author: 'operator' }))).toEqual(
      expect.objectContaining({
        status: 403,
        body: { error: { message: 'Access denied', details: 'This action requires administrator or maintainer privileges.', help: null } },
      }),
    );
    const op = await req('POST', '/v1/feedback', root, body({ author: 'operator', mark: 'wrong' }));
    expect(op.status).toBe(200);
    d = (await req('GET', '/v1/conversations/conv-fb', alice)).body;
    expect(d.history[1]).toMatchObject({
      userMark: { mark: 'correct', feedback_id: second.body.id },
      operatorMark: { mark: 'wrong', feedback_id: op.body.id },
    });
    expect(await counts.feedbackCounts({ conversationId, author: 'operator' })).toMatchObject({ total: 1, wrong: 1 });

    // Lists: own entries; admins see all.
    const mine = (await req('GET', '/v1/feedback', alice)).body;
    expect(mine.every((e: { user_id: string }) => e.user_id === 'alice-7f3')).toBe(true);
    expect(mine.filter((e: { conversationId: string }) => e.conversationId === 'conv-fb')).toHaveLength(2);
    expect((await req('GET', '/v1/feedback', bob)).body).toEqual([]);
    expect((await req('GET', '/v1/feedback', root)).body.length).toBeGreaterThanOrEqual(3);
    expect(await req('GET', `/v1/feedback/${second.body.id}`, bob)).toEqual(expect.objectContaining({ status: 403, body: denied('view') }));
    expect(await req('GET', '/v1/feedback/ghost', alice)).toEqual(
      expect.objectContaining({
        status: 404,
        body: {
          error: {
            message: 'Feedback not found',
            details: 'The feedback with ID [ghost] could not be found in the system.',
            help: 'Please ensure the specified ID is correct',
          },
        },
      }),
    );

    const removed = await req('DELETE', '/v1/feedback', alice, {
      conversationId: 'conv-fb',
      feedbackId: second.body.id,
      messageIndex: 1,
      assistant_id: assistantId,
      author: 'user',
    });
    expect(removed.body).toEqual({ message: 'Specified feedback entry removed' });
    d = (await req('GET', '/v1/conversations/conv-fb', alice)).body;
    expect(d.history[1].userMark).toBeNull();
    expect(await counts.feedbackCounts({ conversationId, author: 'user' })).toMatchObject({ total: 1, partially_correct: 1 });
    // An unknown feedback id is no error (the mark is cleared all the same).
    expect(
      (
        await req('DELETE', '/v1/feedback', alice, {
          conversationId: 'conv-fb',
          feedbackId: 'nope',
          messageIndex: 1,
          assistant_id: assistantId,
          author: 'user',
        })
      ).status,
    ).toBe(200);

    // Feedback goes with its message.
    await req('DELETE', '/v1/conversations/conv-fb/history/1', alice);
    expect(await counts.feedbackCounts({ conversationId, author: 'user' })).toMatchObject({ total: 0 });
  });

  it('feedback errors: 404 unknown conversation, 403 not yours, 400 no message there, 422 missing response', async () => {
    await chat('mine', 'conv-fb-err');
    const body = { conversationId: 'conv-fb-err', messageIndex: 1, assistant_id: assistantId, request: 'q', response: 'a', mark: 'correct', author: 'user' };
    expect(await req('POST', '/v1/feedback', alice, { ...body, conversationId: 'ghost' })).toEqual(
      expect.objectContaining({ status: 404, body: notFound('ghost') }),
    );
    expect(await req('POST', '/v1/feedback', bob, body)).toEqual(expect.objectContaining({ status: 403, body: denied('view') }));
    expect(await req('POST', '/v1/feedback', alice, { ...body, messageIndex: 7 })).toEqual(
      expect.objectContaining({
        status: 400,
        body: { error: { message: 'Invalid message index', details: 'The conversation [conv-fb-err] has no message at position [7].', help: null } },
      }),
    );
    const { response: _r, ...noResponse } = body;
    const missing = await req('POST', '/v1/feedback', alice, noResponse);
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toBe('response: Invalid input: expected string, received undefined');
    expect((await req('POST', '/v1/feedback', alice, { ...body, mark: 'meh' })).status).toBe(422);
    const del = { conversationId: 'ghost', feedbackId: 'x', messageIndex: 1, assistant_id: assistantId, author: 'user' };
    expect(await req('DELETE', '/v1/feedback', alice, del)).toEqual(expect.objectContaining({ status: 404, body: notFound('ghost') }));
    expect((await req('DELETE', '/v1/feedback', alice, { ...del, conversationId: 'conv-fb-err', messageIndex: 9 })).body.error.message).toBe(
      'Invalid message index',
    );
    expect(await req('DELETE', '/v1/feedback', bob, { ...del, conversationId: 'conv-fb-err' })).toEqual(
      expect.objectContaining({ status: 403, body: denied('view') }),
    );
  });
});
