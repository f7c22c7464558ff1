// The LangChain.js app the LangChain tests trace in each runtime (Node, workerd, Chromium): a RAG
// chain of a retriever of its own (a BaseRetriever subclass), a prompt, ChatOpenAI and a string
// parser. Node's test imports it; the Worker and the page bundle it with LangChain (esbuild), so it
// imports no edgetrace: the traced fetch comes in from each runtime's entry.
import { ChatOpenAI } from '@langchain/openai';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { RunnableLambda, RunnablePassthrough, RunnableSequence } from '@langchain/core/runnables';
import { BaseRetriever } from '@langchain/core/retrievers';
import { Document } from '@langchain/core/documents';

/**
 * Two documents for any query: the first says `topic: query` (its source `source`), so that each
 * runtime's test sees its own app's documents.
 */
export class KnowledgeBase extends BaseRetriever {
  lc_namespace = ['edgetrace', 'test'];

  constructor({ topic, source }) {
    super();
    this.topic = topic;
    this.source = source;
  }

  async _getRelevantDocuments(query) {
    return [
      new Document({ pageContent: `${this.topic}: ${query}`, metadata: { source: this.source }, id: 'doc-1' }),
      new Document({ pageContent: 'Spans nest.', metadata: { source: 'kb/spans.md' } }),
    ];
  }
}

/**
 * ChatOpenAI (gpt-4o-mini, no retries) against the model API at `baseURL` (the local mock's
 * `/v1`), with `fetch` as its fetch; `options` are the model's own, `options.configuration` added
 * to the client's.
 */
export const chatOpenAI = ({ baseURL, fetch }, options = {}) =>
  new ChatOpenAI({
    model: 'gpt-4o-mini',
    apiKey: 'sk-test',
    maxRetries: 0,
    ...options,
    configuration: { baseURL, fetch, ...options.configuration },
  });

/** The RAG chain: the documents of `kb` ({ topic, source }) for context, the question, `llm`, a string. */
export const ragChain = (llm, kb) =>
  RunnableSequence.from([
    { context: new KnowledgeBase(kb).pipe(RunnableLambda.from((docs) => docs.map((d) => d.pageContent).join('\n'))), question: new RunnablePassthrough() },
    ChatPromptTemplate.fromMessages([['system', 'Answer from: {context}'], ['human', '{question}']]),
    llm,
    new StringOutputParser(),
  ]);
