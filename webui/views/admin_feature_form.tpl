% rebase('base.tpl', title=_('Extension features'), back_path='/admin/features')
% include('admin_nav.tpl')
<h1>{{_('Extension features')}} {{number}}</h1>
% if errors:
<div class="error" id="form-errors" role="alert"><p>{{_('Not saved: please correct the marked fields. Nothing was changed.')}}</p></div>
% end
<form method="post" action="/admin/features/{{number}}" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
% for k, label in (('forward_always', 'Forward always'), ('forward_busy', 'Forward on busy'), ('forward_no_answer', 'Forward on no answer'), ('no_answer_timeout', 'No answer after (s)'), ('mobile', 'Mobile (one-number)'), ('mobile_delay', 'Ring the desk alone for (s)')):
<div class="field{{' has-error' if k in errors else ''}}" data-field="{{k}}">
<label>{{_(label)}} <input name="{{k}}" id="f-{{k}}" value="{{form.get(k, '')}}"></label>
% if k in errors:
<p class="error field-error" role="alert">{{errors[k]}}</p>
% end
</div>
% end
<small class="hint">{{_('Forward to an extension, a ring group (5000-5099) or 0 + an outside number. Empty: off.')}}</small>
<label><input type="checkbox" name="dnd" value="1" {{'checked' if form.get('dnd') else ''}}> {{_('Do not disturb')}}</label>
<label><input type="checkbox" name="voicemail" value="1" {{'checked' if form.get('voicemail') else ''}}> {{_('Voicemail')}}</label>
<label><input type="checkbox" name="remote_answer" id="f-remote_answer" value="1" {{'checked' if form.get('remote_answer') else ''}}> {{_('Remote answer')}}</label>
<small class="hint">{{_('The agent desk may answer this phone, and click-to-dial picks it up by itself. Only for phones that accept it (Yealink, Polycom, Grandstream: NOTIFY Event: talk and Call-Info answer-after).')}}</small>
<div class="field{{' has-error' if 'pin' in errors else ''}}" data-field="pin">
<label>{{_('New voicemail PIN')}} <input name="pin" id="f-pin" type="password" autocomplete="new-password" inputmode="numeric"></label>
% if 'pin' in errors:
<p class="error field-error" role="alert">{{errors['pin']}}</p>
% end
<small class="hint">{{_('A PIN is set.') if form.get('pin') else _('No PIN is set.')}}</small>
<label><input type="checkbox" name="clear_pin" value="1"> {{_('Remove the PIN')}}</label>
</div>
<p><button type="submit" id="save">{{_('Save')}}</button> <a href="/admin/features">{{_('Cancel')}}</a></p>
</form>
