% rebase('base.tpl', title=_('Agent desk'), back_path='/desk')
% import json
<h1>{{_('Agent desk')}}</h1>
<script type="application/json" id="i18n">{{!json.dumps({k: _(k) for k in ('logged-out', 'ready', 'not-ready', 'ringing', 'on-call', 'wrap-up', 'Incoming call', 'Unknown caller', 'No call', 'Connected', 'On hold', 'Ringing', 'Saved.', 'Calling {number}…', 'Wrap-up ends in {s} s', 'Name', 'Address', 'Time', 'Number', 'Talk (s)', 'Subject', 'Status', 'switchd is not running.', 'Connection to the box lost; retrying…', 'break', 'lunch', 'meeting', 'training', 'no answer', 'login', 'Call ended')}, ensure_ascii=False).replace('</', '<\\/')}}</script>
<div id="desk" data-agent="{{ctx.agent_id or ''}}" data-extension="{{ctx.extension or ''}}">
<section class="panel" id="me">
% if not ctx.agent_id:
<p class="notice" id="no-agent">{{_('Your user is not bound to an ACD agent: ask an admin (Users page). You can still take direct calls and dial.')}}</p>
% end
<form method="post" action="/me/extension" class="inline" id="pick-extension">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<input type="hidden" name="back" value="/desk">
<label>{{_('My extension')}} <select name="extension" id="extension">
<option value="">—</option>
% for e in extensions:
<option value="{{e.number}}" {{'selected' if e.number == ctx.extension else ''}}>{{e.number}} {{e.name}}</option>
% end
</select></label>
<button type="submit" id="use-extension">{{_('Use this phone')}}</button>
</form>
% if ctx.agent_id:
<span>{{_('Agent')}} <b id="agent-id">{{ctx.agent_id}}</b></span>
% end
</section>

% if ctx.agent_id:
<section class="panel" id="agent-state">
<h2>{{_('My state')}}: <span id="state" class="state" data-state="">…</span> <small id="state-time"></small></h2>
<p id="wrap" hidden></p>
<button type="button" id="login" data-state="login">{{_('Log in')}}</button>
<button type="button" id="ready" data-state="ready">{{_('Ready')}}</button>
<select id="reason"></select>
<button type="button" id="notready" data-state="notReady">{{_('Not ready')}}</button>
<button type="button" id="logout" data-state="logout">{{_('Log out')}}</button>
</section>
% end

<section class="panel pop" id="pop" hidden>
<h2>{{_('Incoming call')}} <span id="pop-number" class="big"></span> <small id="pop-queue"></small></h2>
<div id="pop-customer">
<p><b id="pop-name"></b> <span id="pop-address"></span></p>
<p id="pop-note" class="muted"></p>
</div>
<form id="customer-form" class="card">
<label>{{_('Name')}} <input id="customer-name" maxlength="100"></label>
<label>{{_('Address')}} <input id="customer-address" maxlength="300"></label>
<label>{{_('Note')}} <input id="customer-note" maxlength="500"></label>
<button type="submit" id="save-customer">{{_('Save customer')}}</button>
</form>
<h3>{{_('Recent calls')}}</h3>
<table id="pop-calls"><tbody></tbody></table>
<h3>{{_('Orders')}}</h3>
<table id="pop-orders"><tbody></tbody></table>
</section>

<section class="panel" id="call">
<h2>{{_('Current call')}}: <span id="call-state">{{_('No call')}}</span> <span id="call-party" class="big"></span></h2>
<div class="controls">
<button type="button" data-cmd="Answer" id="answer">{{_('Answer')}}</button>
<button type="button" data-cmd="ClearConnection" id="hangup" class="danger">{{_('Hang up')}}</button>
<button type="button" data-cmd="Hold" id="hold">{{_('Hold')}}</button>
<button type="button" data-cmd="Retrieve" id="retrieve">{{_('Retrieve')}}</button>
</div>
<div class="controls">
<label>{{_('To (agent, queue or number)')}} <input id="target" inputmode="tel" size="14"></label>
<button type="button" data-cmd="SingleStepTransfer" data-to="1" id="transfer">{{_('Transfer')}}</button>
<button type="button" data-cmd="ConsultationCall" data-to="1" id="consult">{{_('Consult')}}</button>
<button type="button" data-cmd="Transfer" id="complete">{{_('Complete transfer')}}</button>
<button type="button" data-cmd="Conference" id="conference">{{_('3-way')}}</button>
<button type="button" data-cmd="ReconnectCall" id="reconnect">{{_('Back to caller')}}</button>
</div>
</section>

<section class="panel" id="notes" hidden>
<h2>{{_('Call notes')}} <small id="notes-call"></small></h2>
<form id="note-form" class="card">
<textarea id="note-text" rows="3" maxlength="4000"></textarea>
<label>{{_('Outcome')}} <select id="note-disposition">
% for d in dispositions:
<option value="{{d}}">{{_(d) if d else '—'}}</option>
% end
</select></label>
<button type="submit" id="save-note">{{_('Save note')}}</button>
</form>
</section>

<section class="panel" id="dial">
<label>{{_('Dial')}} <input id="dial-number" inputmode="tel" size="16"></label>
<button type="button" id="dial-button">{{_('Call')}}</button>
<span class="muted">{{_('Your phone rings first; pick it up and the number is dialled.')}}</span>
</section>

<p id="message" role="status" class="notice" hidden></p>

<section class="panel" id="history">
<h2>{{_('My calls')}}</h2>
<table id="history-table">
<thead><tr><th>{{_('Start')}}</th><th>{{_('Direction')}}</th><th>{{_('Caller')}}</th><th>{{_('Called')}}</th><th>{{_('Queue')}}</th><th>{{_('Talk (s)')}}</th></tr></thead>
<tbody>
% for c in history:
<tr><td><a href="/desk/calls/{{c.id}}">{{local_time(c.start)}}</a></td><td>{{_(c.direction) if c.direction else ''}}</td>
<td><a href="#" class="dial" data-number="{{c.caller}}">{{c.caller}}</a></td>
<td><a href="#" class="dial" data-number="{{c.called}}">{{c.called}}</a></td>
<td>{{c.queue}}</td><td>{{'%.0f' % c.talk_seconds}}</td></tr>
% end
</tbody>
</table>
</section>
</div>
<script src="/static/live.js" defer></script>
<script src="/static/desk.js" defer></script>
